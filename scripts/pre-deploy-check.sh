#!/usr/bin/env bash
# Checks that a deploy can go ahead, and lists everything that is wrong at
# once (exit 1), or says so and exits 0:
#   - the env file exists, is private (no access for others) and parses;
#   - it has every variable of deploy/env.example, none left empty or a
#     placeholder (CHANGE_ME, ...);
#   - secret strength: POSTGRES_PASSWORD, REDIS_PASSWORD, SMOKE_PASSWORD of
#     24 characters or more, REPORTER_CREDENTIALS_KEY = base64 of 32 bytes;
#     DATABASE_URL / REDIS_URL pointing at the compose services use those
#     passwords;
#   - `reporterctl check`: config valid, database and Redis reachable, no
#     pending migrations;
#   - every migrations/*/up.sql passes scripts/ci/lint-migrations.sh: squawk
#     (a PostgreSQL migration linter, pinned, installed on demand into
#     ~/.cache/reporter with npm or pip) with .squawk.toml, plus the additive
#     checks squawk lacks (DROP CONSTRAINT, TRUNCATE, DROP SCHEMA): no drop,
#     rename, type change or new NOT NULL on existing columns, no long lock,
#     so the previous release still runs on the new schema (docs/deploy.md,
#     "Migration safety", says how to mark a reviewed exception);
#   - the image REPORTER_IMAGE:TAG exists (locally or in the registry).
#
#   scripts/pre-deploy-check.sh [--env-file FILE] [--tag TAG] [options]
#
# Options:
#   --env-file FILE            env file to check (default: .env at the repository root)
#   --tag TAG                  image tag about to be deployed (the image check needs it)
#   --env staging|prod         compose file used to run reporterctl (default prod)
#   --allow-pending-migrations pending migrations are reported, not failed (a deploy
#                              applies them right after this check)
#   --skip-reporterctl         do not run `reporterctl check`
#   --skip-migration-lint      do not run squawk (only the additive checks squawk
#                              lacks); for a host where squawk cannot be installed,
#                              when CI already linted the commit being deployed.
#                              Without it, an unavailable squawk is a problem.
#   --compose                  run reporterctl in the compose network (the migrate
#                              service of the image being deployed), even when a
#                              reporterctl is on PATH; scripts/deploy.sh uses this
#   --dry-run                  run no container or database command: those checks
#                              are reported as skipped
#   -h, --help                 this text
#
# Environment:
#   REPORTERCTL   reporterctl to run (a path, or a command and its arguments). The
#                 env file's variables are given to it. Default: `reporterctl` on
#                 PATH, else as with --compose.
#   COMPOSE       compose command (default "docker compose")
#   DOCKER        docker command for the image check (default docker)
#   SKIP_MIGRATION_LINT=1  same as --skip-migration-lint (scripts/deploy.sh
#                 passes its environment on)
#   SQUAWK, SQUAWK_CACHE   see scripts/ci/lint-migrations.sh --help
#
# Exit: 0 all good, 1 problems listed, 2 usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"

ENV_FILE="$ROOT/.env" TAG='' DEPLOY_ENV=prod ALLOW_PENDING=0 SKIP_CTL=0 DRY_RUN=0 VIA_COMPOSE=0
SKIP_LINT=0
[ "${SKIP_MIGRATION_LINT:-0}" != 1 ] || SKIP_LINT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; ENV_FILE=$2; shift 2 ;;
    --tag) [ $# -ge 2 ] || usage_error "--tag needs a value"; TAG=$2; shift 2 ;;
    --env) [ $# -ge 2 ] || usage_error "--env needs staging or prod"; DEPLOY_ENV=$2; shift 2 ;;
    --allow-pending-migrations) ALLOW_PENDING=1; shift ;;
    --skip-reporterctl) SKIP_CTL=1; shift ;;
    --skip-migration-lint) SKIP_LINT=1; shift ;;
    --compose) VIA_COMPOSE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
case "$DEPLOY_ENV" in staging | prod) ;; *) usage_error "--env must be staging or prod" ;; esac
need_cmd python3

EXAMPLE="$ROOT/deploy/env.example"
COMPOSE_FILE="$ROOT/compose.$DEPLOY_ENV.yml"
read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
read -ra DOCKER_CMD <<<"${DOCKER:-docker}"

PROBLEMS=()
ok() { printf 'ok   %s\n' "$*"; }
skip() { printf 'skip %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; PROBLEMS+=("$*"); }

# --- 1. the env file ----------------------------------------------------------
env_ok=1
if [ ! -f "$ENV_FILE" ]; then
  fail "env file $ENV_FILE not found (scripts/generate-secrets.sh --template deploy/env.example --output $ENV_FILE)"
  env_ok=0
else
  mode=$(stat -c '%a' "$ENV_FILE")
  if [ $((8#$mode & 8#077)) -ne 0 ]; then
    fail "env file $ENV_FILE is readable by group or others (mode $mode): chmod 600 $ENV_FILE"
  else
    ok "env file $ENV_FILE is private (mode $mode)"
  fi
  load_env_file "$ENV_FILE"
  for e in "${ENVF_ERRORS[@]}"; do fail "$e"; env_ok=0; done
fi

if [ "$env_ok" -eq 1 ]; then
  # Everything deploy/env.example lists must be set; an example with an empty
  # value (an optional setting) may stay empty.
  declare -A FILE_VALUES=()
  for k in "${ENVF_KEYS[@]}"; do FILE_VALUES[$k]=${ENVF[$k]}; done
  load_env_file "$EXAMPLE" || die "cannot read $EXAMPLE"
  missing=() empty=() placeholder=()
  for k in "${ENVF_KEYS[@]}"; do
    if [ -z "${FILE_VALUES[$k]+set}" ]; then
      missing+=("$k")
    elif [ -z "${FILE_VALUES[$k]}" ] && [ -n "${ENVF[$k]}" ]; then
      empty+=("$k")
    elif [[ ${FILE_VALUES[$k],,} =~ change[-_]?me ]]; then
      placeholder+=("$k")
    fi
  done
  # Back to the checked file's values for the rest of the checks.
  load_env_file "$ENV_FILE"
  [ ${#missing[@]} -eq 0 ] || fail "missing from $ENV_FILE: ${missing[*]} (deploy/env.example lists them)"
  [ ${#empty[@]} -eq 0 ] || fail "empty in $ENV_FILE: ${empty[*]}"
  [ ${#placeholder[@]} -eq 0 ] || fail "still placeholders (CHANGE_ME) in $ENV_FILE: ${placeholder[*]}"
  [ ${#missing[@]} -ne 0 ] || [ ${#empty[@]} -ne 0 ] || [ ${#placeholder[@]} -ne 0 ] \
    || ok "every variable of deploy/env.example is set"

  # --- 2. secrets ---------------------------------------------------------------
  for k in POSTGRES_PASSWORD REDIS_PASSWORD SMOKE_PASSWORD; do
    v=$(envf "$k")
    [ -n "$v" ] || continue # reported above
    if [ ${#v} -lt 24 ]; then
      fail "$k is ${#v} characters; use 24 or more (scripts/generate-secrets.sh)"
    elif looks_like_placeholder "$v"; then
      fail "$k looks like a default or placeholder value"
    else
      ok "$k is ${#v} characters"
    fi
  done
  if [ -n "$(envf REPORTER_CREDENTIALS_KEY)" ]; then
    n=$(CHECK_VALUE=$(envf REPORTER_CREDENTIALS_KEY) b64_decoded_len CHECK_VALUE)
    if [ "$n" = 32 ]; then
      ok "REPORTER_CREDENTIALS_KEY is base64 of 32 bytes"
    elif [ "$n" = -1 ]; then
      fail "REPORTER_CREDENTIALS_KEY is not valid base64 (want base64 of 32 random bytes)"
    else
      fail "REPORTER_CREDENTIALS_KEY decodes to $n bytes; it must be 32"
    fi
  fi

  # URLs: parse, and when they name the compose services, match their passwords.
  check_url() { # var scheme-regex service password-var
    local var=$1 schemes=$2 service=$3 pwvar=$4 fields
    [ -n "$(envf "$var")" ] || return 0
    if ! fields=$(CHECK_VALUE=$(envf "$var") url_fields CHECK_VALUE); then
      fail "$var is not a valid URL"
      return 0
    fi
    # scheme, user, password, host, port, path; trailing empty ones may be absent.
    local parts scheme pass host
    mapfile -t parts <<<"$fields"
    scheme=${parts[0]:-} pass=${parts[2]:-} host=${parts[3]:-}
    if [[ ! $scheme =~ ^($schemes)$ ]]; then
      fail "$var must start with ${schemes//|/:\/\/ or }://"
    elif [ "$host" = "$service" ]; then
      if [ -z "$pass" ]; then
        fail "$var has no password but the $service service requires one ($pwvar)"
      elif [ "$pass" != "$(envf "$pwvar")" ]; then
        fail "the password in $var is not $pwvar: the services could not log in"
      else
        ok "$var uses $pwvar"
      fi
    elif [ -z "$pass" ]; then
      warn "$var ($host) has no password"
      ok "$var is a valid URL (external $service, no password)"
    else
      ok "$var is a valid URL (external $service at $host)"
    fi
  }
  check_url DATABASE_URL 'postgres|postgresql' postgres POSTGRES_PASSWORD
  check_url REDIS_URL 'redis|rediss' redis REDIS_PASSWORD

  driver=$(envf REPORTER_PORTAL_DRIVER webdriver)
  if [ "$DEPLOY_ENV" = prod ] && [ "$driver" != webdriver ]; then
    fail "REPORTER_PORTAL_DRIVER is $driver; production must use webdriver (http and fake are for tests)"
  fi
  lf=$(envf LOG_FORMAT json)
  [[ $lf =~ ^(text|json)$ ]] || fail "LOG_FORMAT must be text or json"
  for k in MAX_ACTIVE_SELENIUM WORKER_REPLICAS BACKUP_KEEP; do
    v=$(envf "$k")
    [ -z "$v" ] || [[ $v =~ ^[0-9]+$ ]] || fail "$k must be a whole number"
  done
fi

# --- 3. migrations: squawk and the additive checks ---------------------------------
# scripts/ci/lint-migrations.sh prints `FILE:LINE: RULE: message` per finding
# and a summary line; exit 3 means squawk could not be had here.
lint=(bash "$ROOT/scripts/ci/lint-migrations.sh" --root "$ROOT")
[ "$SKIP_LINT" -eq 0 ] || lint+=(--no-squawk)
set +e
lint_out=$("${lint[@]}" 2>&1)
lint_rc=$?
set -e
case "$lint_rc" in
  0)
    [ "$SKIP_LINT" -eq 0 ] || skip "squawk migration lint (--skip-migration-lint)"
    ok "$(tail -n 1 <<<"$lint_out")" ;;
  1)
    n_found=0
    while IFS= read -r line; do
      [[ $line == migrations/*:[0-9]*:\ * ]] || continue
      fail "migration lint: $line"
      n_found=$((n_found + 1))
    done <<<"$lint_out"
    # no finding lines: the lint itself failed (no migrations, no config, squawk error)
    [ "$n_found" -gt 0 ] || fail "migration lint failed: $(tail -n 3 <<<"$lint_out" | tr '\n' ' ')" ;;
  3)
    fail "migration lint: squawk is not available here and could not be installed (no npm or pip?): install npm or python3-pip, or set SQUAWK to a squawk binary, or pass --skip-migration-lint when CI linted this commit (scripts/ci/lint-migrations.sh --help)" ;;
  *)
    fail "migration lint exited $lint_rc: $(tail -n 3 <<<"$lint_out" | tr '\n' ' ')" ;;
esac

# --- 4. the image -----------------------------------------------------------------
IMAGE=$(envf REPORTER_IMAGE reporter)
if [ -z "$TAG" ]; then
  skip "image check (no --tag given)"
elif ! valid_tag "$TAG"; then
  fail "--tag $TAG is not a valid image tag"
elif [ "$TAG" = latest ]; then
  fail "--tag latest is mutable; deploy an immutable tag (version or commit)"
elif [ "$DRY_RUN" -eq 1 ]; then
  skip "image $IMAGE:$TAG exists (dry run)"
elif ! command -v "${DOCKER_CMD[0]}" >/dev/null 2>&1 || ! "${DOCKER_CMD[@]}" info >/dev/null 2>&1; then
  skip "image $IMAGE:$TAG exists (no container engine reachable)"
elif "${DOCKER_CMD[@]}" image inspect "$IMAGE:$TAG" >/dev/null 2>&1; then
  ok "image $IMAGE:$TAG exists locally"
elif "${DOCKER_CMD[@]}" manifest inspect "$IMAGE:$TAG" >/dev/null 2>&1; then
  ok "image $IMAGE:$TAG exists in the registry"
else
  fail "image $IMAGE:$TAG not found locally nor in the registry (pushed? logged in?)"
fi

# --- 5. reporterctl check -----------------------------------------------------------
# Last, and only with a sound env file: running it may start the database
# containers, which must never be initialised with placeholder passwords.
if [ "$SKIP_CTL" -eq 1 ]; then
  skip "reporterctl check (--skip-reporterctl)"
elif [ "$DRY_RUN" -eq 1 ]; then
  skip "reporterctl check (dry run)"
elif [ ${#PROBLEMS[@]} -gt 0 ]; then
  skip "reporterctl check (fix the problems above first)"
else
  if [ -n "${REPORTERCTL:-}" ] && [ "$VIA_COMPOSE" -eq 0 ]; then
    read -ra CTL <<<"$REPORTERCTL"
  elif command -v reporterctl >/dev/null 2>&1 && [ "$VIA_COMPOSE" -eq 0 ]; then
    CTL=(reporterctl)
  else
    # Starts postgres and redis if they are down (the migrate service depends
    # on them), which is why the env file was checked first.
    CTL=(env "REPORTER_TAG=${TAG:-${REPORTER_TAG:-}}" "${COMPOSE_CMD[@]}" -p "reporter-$DEPLOY_ENV"
      -f "$COMPOSE_FILE" --env-file "$ENV_FILE" run --rm -T migrate reporterctl)
    [ -n "${TAG:-${REPORTER_TAG:-}}" ] || fail "reporterctl check: needs --tag to pick the image to run it from"
  fi
  if [ ${#PROBLEMS[@]} -eq 0 ]; then
    set +e
    out=$(export_env_file_vars; "${CTL[@]}" check 2>&1)
    rc=$?
    set -e
    ctl_failed=0
    while IFS= read -r line; do
      case "$line" in
        'ok   '*) ok "reporterctl: ${line#ok   }" ;;
        'FAIL pending migrations'*)
          if [ "$ALLOW_PENDING" -eq 1 ]; then
            skip "reporterctl: ${line#FAIL } (allowed: the deploy applies them next)"
          else
            fail "reporterctl: ${line#FAIL }"; ctl_failed=1
          fi ;;
        'FAIL '*) fail "reporterctl: ${line#FAIL }"; ctl_failed=1 ;;
      esac
    done <<<"$out"
    if [ "$rc" -ne 0 ] && [ "$ctl_failed" -eq 0 ] && ! grep -q '^FAIL pending migrations' <<<"$out"; then
      # It failed before printing its checks (bad config, missing binary, ...).
      fail "reporterctl check exited $rc: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    fi
  fi
fi

echo
if [ ${#PROBLEMS[@]} -eq 0 ]; then
  echo "pre-deploy check passed"
  exit 0
fi
echo "pre-deploy check FAILED: ${#PROBLEMS[@]} problem(s):"
for p in "${PROBLEMS[@]}"; do echo "  - $p"; done
exit 1
