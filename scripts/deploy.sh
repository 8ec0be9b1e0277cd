#!/usr/bin/env bash
# Deploys, rolls back and reports on Reporter running under docker compose.
#
#   scripts/deploy.sh deploy   --env staging|prod --tag TAG [--dry-run]
#   scripts/deploy.sh rollback --env staging|prod [--tag TAG] [--dry-run]
#   scripts/deploy.sh status   --env staging|prod
#   scripts/deploy.sh current  --env staging|prod     # prints the running tag only
#
# deploy, in order (any failure stops it; the old release keeps running):
#   1. pre-checks    scripts/pre-deploy-check.sh (env, secrets, additive
#                    migrations, image exists, reporterctl check)
#   2. backup        scripts/backup-db.sh inside the postgres container
#   3. tag           pull REPORTER_IMAGE:TAG if not present; mark it pending
#   4. migrate       the one-shot migrate service of the new image, then a
#                    strict `reporterctl check` (no pending migrations)
#   5. restart       infrastructure and caddy up (never recreated; caddy
#                    reloads its Caddyfile in place), then the API replicas
#                    api-a and api-b one at a time, each drained first and
#                    gated on its /readyz (zero downtime: scripts/lib/rolling.sh),
#                    then beat, then workers (SIGTERM: they drain); each waited
#                    on until healthy
#   6. smoke test    scripts/smoke-test.sh through caddy's loopback listener:
#                    readiness, login, slots, OpenAPI, /metrics not public; the
#                    fleet's health is reported, never a reason to roll back
#   7. record        a line in the deploy log; the release's compose file is
#                    kept in the state directory for its rollback
# If step 5 or 6 fails, the previous known-good tag is put back (step 5 and 6
# again, without migrations: they are additive, the old release runs on the
# new schema) and the deploy exits non-zero.
#
# rollback goes back to the previous known-good tag from the deploy log (or
# --tag) with the compose file that release was deployed with, replacing the
# API replicas one at a time, then beat and workers, and smoke-testing it. It
# never touches migrations or data.
#
# status shows the current and previous tags, the last deploys, the containers
# and the API's health; exit 3 when the API is not healthy.
#
# Options:
#   --env staging|prod   which stack: compose.<env>.yml, project reporter-<env> (default staging)
#   --tag TAG            image tag to deploy (deploy: required; rollback: optional target)
#   --dry-run            print every command, in order, and run none of them
#   -h, --help           this text
#
# Environment (all optional):
#   COMPOSE                    compose command (default "docker compose")
#   DOCKER                     docker command (default docker)
#   SMOKE_CMD                  smoke test command, given the base URL
#                              (default scripts/smoke-test.sh)
#   SMOKE_BASE_URL             API base URL (default http://<API_PUBLISH from .env>)
#   REPORTER_DEPLOY_STATE_DIR  deploy log and locks (default .deploy/ in the repository)
#   DEPLOY_HEALTH_TIMEOUT      seconds to wait for a service to be healthy (default 300)
#   DEPLOY_POLL_INTERVAL       seconds between health polls (default 3)
#   ROLL_SETTLE_SECS           seconds between two API replicas (default 3)
# The services read .env at the repository root; BACKUP_DIR, BACKUP_KEEP,
# WORKER_REPLICAS, API_PUBLISH and SMOKE_EMAIL/SMOKE_PASSWORD come from it too.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"
# shellcheck source=scripts/lib/rolling.sh
source "$ROOT/scripts/lib/rolling.sh"

ACTION=${1:-}
case "$ACTION" in
  -h | --help | help) print_help "$0"; exit 0 ;;
  deploy | rollback | status | current) shift ;;
  '') usage_error "which action: deploy, rollback, status or current?" ;;
  *) usage_error "unknown action $ACTION" ;;
esac
DEPLOY_ENV=staging TAG='' DRY_RUN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --env) [ $# -ge 2 ] || usage_error "--env needs staging or prod"; DEPLOY_ENV=$2; shift 2 ;;
    --env=*) DEPLOY_ENV=${1#--env=}; shift ;;
    --tag) [ $# -ge 2 ] || usage_error "--tag needs a value"; TAG=$2; shift 2 ;;
    --tag=*) TAG=${1#--tag=}; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
case "$DEPLOY_ENV" in staging | prod) ;; *) usage_error "--env must be staging or prod" ;; esac
if [ -n "$TAG" ] && ! valid_tag "$TAG"; then usage_error "--tag $TAG is not a valid image tag"; fi
[ "$ACTION" != deploy ] || [ -n "$TAG" ] || usage_error "deploy needs --tag TAG"
[ "$ACTION" != deploy ] || [ "$TAG" != latest ] || usage_error "deploy an immutable tag, not latest"

COMPOSE_FILE="$ROOT/compose.$DEPLOY_ENV.yml"
# The compose file dc() uses: this checkout's, or a release's kept copy when
# going back to that release.
RUN_COMPOSE_FILE=$COMPOSE_FILE
API_REPLICAS=(api-a api-b)
PROJECT="reporter-$DEPLOY_ENV"
ENV_FILE="$ROOT/.env"
read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
read -ra DOCKER_CMD <<<"${DOCKER:-docker}"
read -ra SMOKE <<<"${SMOKE_CMD:-$ROOT/scripts/smoke-test.sh}"
STATE_DIR=${REPORTER_DEPLOY_STATE_DIR:-$ROOT/.deploy}
LOG_FILE="$STATE_DIR/deploys.log"
HEALTH_TIMEOUT=${DEPLOY_HEALTH_TIMEOUT:-300}
POLL=${DEPLOY_POLL_INTERVAL:-3}
[ -f "$COMPOSE_FILE" ] || die "compose file $COMPOSE_FILE not found"

if [ -r "$ENV_FILE" ]; then
  load_env_file "$ENV_FILE"
elif [ "$ACTION" = deploy ] || [ "$ACTION" = rollback ]; then
  [ "$DRY_RUN" -eq 1 ] || die "$ENV_FILE not found (scripts/generate-secrets.sh --template deploy/env.example --output .env)"
fi
IMAGE=$(envf REPORTER_IMAGE reporter)
WORKERS=$(envf WORKER_REPLICAS 2)
[[ $WORKERS =~ ^[0-9]+$ ]] || die "WORKER_REPLICAS in .env must be a whole number"
BACKUP_DIR=$(envf BACKUP_DIR "$ROOT/backups")
BACKUP_KEEP=$(envf BACKUP_KEEP 0)
publish=$(envf API_PUBLISH 127.0.0.1:8000)
[[ $publish == *:* ]] || publish="127.0.0.1:$publish"
[[ $publish != 0.0.0.0:* ]] || publish="127.0.0.1:${publish#0.0.0.0:}"
BASE_URL=${SMOKE_BASE_URL:-http://$publish}

# --- running commands -----------------------------------------------------------
# Every command that changes something goes through run(): printed, and in a
# dry run only printed. Nothing printed here holds a secret: secrets stay in
# .env and in the environment of the commands that need them.
run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '%s\n' "$(quote_cmd "$@")"
    return 0
  fi
  printf '+ %s\n' "$(quote_cmd "$@")" >&2
  "$@"
}
# The compose command for one tag. --project-directory keeps relative paths
# (.env, ./deploy/...) at the repository root whichever compose file is used.
dc() { # tag args...
  local tag=$1; shift
  run env "REPORTER_TAG=$tag" "${COMPOSE_CMD[@]}" -p "$PROJECT" --project-directory "$ROOT" \
    -f "$RUN_COMPOSE_FILE" --env-file "$ENV_FILE" "$@"
}
# Same, for reading (ps, inspect): never printed, skipped in a dry run.
dc_read() { # tag args...
  local tag=$1; shift
  [ "$DRY_RUN" -eq 0 ] || return 0
  env "REPORTER_TAG=$tag" "${COMPOSE_CMD[@]}" -p "$PROJECT" --project-directory "$ROOT" \
    -f "$RUN_COMPOSE_FILE" --env-file "$ENV_FILE" "$@"
}

# --- releases' compose files ---------------------------------------------------------
# A successful deploy keeps the compose file it ran with; going back to that
# release (rollback, auto-rollback) uses it with the release's image, so an
# old image never runs under a newer checkout's service definitions.
release_compose() { # tag: the kept file's path (may not exist)
  printf '%s/releases/%s/compose.%s.yml' "$STATE_DIR" "$1" "$DEPLOY_ENV"
}
keep_release_compose() { # tag
  local dest
  dest=$(release_compose "$1")
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '# keep %s as %s\n' "${COMPOSE_FILE#"$ROOT"/}" "$dest"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  cp "$COMPOSE_FILE" "$dest"
  git -C "$ROOT" rev-parse HEAD >"$(dirname "$dest")/commit" 2>/dev/null || true
}
use_release_compose() { # tag
  local kept
  kept=$(release_compose "$1")
  if [ -f "$kept" ]; then
    RUN_COMPOSE_FILE=$kept
    log "using $1's compose file ($kept)"
  else
    RUN_COMPOSE_FILE=$COMPOSE_FILE
    warn "no compose file kept for $1 (deployed before this was recorded): using ${COMPOSE_FILE#"$ROOT"/}"
  fi
}

step() { # n/total text
  if [ "$DRY_RUN" -eq 1 ]; then printf '# %s\n' "$*"; else log "$*"; fi
}

# --- the deploy log ---------------------------------------------------------------
# One tab-separated line per action:
#   time  env  action  tag  previous  result  user  detail
# action: deploy | rollback | auto-rollback
# result: success | failed | rolled-back | aborted
record() { # action tag previous result detail
  local line
  line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$(utc_now)" "$DEPLOY_ENV" "$1" "$2" "${3:--}" "$4" \
    "${SUDO_USER:-${USER:-$(id -un)}}" "${5:--}")
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '# record in %s: %s\n' "$LOG_FILE" "$(tr '\t' ' ' <<<"$line")"
    return 0
  fi
  printf '%s\n' "$line" >>"$LOG_FILE"
}

# The known-good history of this env, oldest first, one tag per line: a
# successful deploy pushes its tag; a successful rollback pops the tag it left
# and pushes the one it went to (if not on top already).
history() {
  [ -f "$LOG_FILE" ] || return 0
  awk -F '\t' -v env="$DEPLOY_ENV" '
    $2 != env || $6 != "success" { next }
    $3 == "deploy" || $3 == "auto-rollback" { if (n == 0 || s[n] != $4) s[++n] = $4; next }
    $3 == "rollback" { if (n > 0 && s[n] == $5) n--; if (n == 0 || s[n] != $4) s[++n] = $4 }
    END { for (i = 1; i <= n; i++) print s[i] }' "$LOG_FILE"
}
current_tag() { history | tail -n 1; }
previous_tag() { history | tail -n 2 | head -n 1 | grep -vxF -- "$(current_tag)" || true; }

prepare_state() {
  [ "$DRY_RUN" -eq 0 ] || return 0
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  # Keep the state out of git when it lives inside the repository.
  [ -f "$STATE_DIR/.gitignore" ] || printf '*\n' >"$STATE_DIR/.gitignore"
  exec 9>"$STATE_DIR/$DEPLOY_ENV.lock"
  flock -n 9 || die "another deploy or rollback of $DEPLOY_ENV is running (lock $STATE_DIR/$DEPLOY_ENV.lock)"
}

# --- waiting for health -------------------------------------------------------------
# Every container of the service must be running and, when it has a
# healthcheck, healthy. A container that exits or restarts fails at once.
wait_healthy() { # tag service
  local tag=$1 svc=$2
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '# wait until every %s container is healthy (at most %ss)\n' "$svc" "$HEALTH_TIMEOUT"
    return 0
  fi
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) ids id state all_ok
  while :; do
    ids=$(dc_read "$tag" ps -q "$svc" 2>/dev/null || true)
    all_ok=1
    if [ -z "$ids" ]; then all_ok=0; fi
    for id in $ids; do
      state=$("${DOCKER_CMD[@]}" inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id" 2>/dev/null || echo "missing none")
      case "$state" in
        'running healthy' | 'running none') ;;
        'running starting') all_ok=0 ;;
        'running unhealthy') all_ok=0 ;;
        *) warn "$svc container ${id:0:12} is $state"; return 1 ;;
      esac
    done
    [ "$all_ok" -eq 0 ] || { log "$svc healthy"; return 0; }
    [ "$SECONDS" -lt "$deadline" ] || { warn "$svc not healthy after ${HEALTH_TIMEOUT}s"; return 1; }
    sleep "$POLL"
  done
}

# Smoke credentials come from the environment or .env, exported to the smoke
# command only.
smoke() { # tag
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '%s\n' "$(quote_cmd env "REPORTER_TAG=$1" SMOKE_BEHIND_PROXY=1 "${SMOKE[@]}" "$BASE_URL")"
    return 0
  fi
  printf '+ %s\n' "$(quote_cmd "${SMOKE[@]}" "$BASE_URL")" >&2
  (
    export REPORTER_TAG=$1 SMOKE_BEHIND_PROXY=1
    export SMOKE_EMAIL="${SMOKE_EMAIL:-$(envf SMOKE_EMAIL)}"
    export SMOKE_PASSWORD="${SMOKE_PASSWORD:-$(envf SMOKE_PASSWORD)}"
    "${SMOKE[@]}" "$BASE_URL"
  )
}

# The compose driver of scripts/lib/rolling.sh: `up` recreates the replica
# (SIGTERM: it drains within stop_grace_period), readiness is asked of the
# new container itself.
ROLL_TAG=''
replica_replace() { dc "$ROLL_TAG" up -d --no-deps "$1"; }
replica_ready() {
  dc_read "$ROLL_TAG" exec -T "$1" curl -fsS -o /dev/null --max-time 3 \
    http://127.0.0.1:8000/api/v1/readyz >/dev/null 2>&1
}

# Infrastructure and the proxy up (never recreated here), then the API
# replicas one at a time, beat, workers.
restart_app() { # tag
  local tag=$1 svc
  dc "$tag" up -d --no-recreate postgres redis selenium caddy || return 1
  for svc in postgres redis selenium; do wait_healthy "$tag" "$svc" || return 1; done
  # A changed Caddyfile applies without dropping a connection.
  dc "$tag" exec -T caddy caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile || return 1
  ROLL_TAG=$tag
  roll_replicas "${API_REPLICAS[@]}" || return 1
  for svc in "${API_REPLICAS[@]}"; do wait_healthy "$tag" "$svc" || return 1; done
  wait_healthy "$tag" caddy || return 1
  dc "$tag" up -d --no-deps beat || return 1
  wait_healthy "$tag" beat || return 1
  # Old workers get SIGTERM and up to stop_grace_period to finish their jobs.
  dc "$tag" up -d --no-deps --scale "worker=$WORKERS" worker || return 1
  wait_healthy "$tag" worker || return 1
}

# --- actions ------------------------------------------------------------------------------
# Ctrl-C or SIGTERM in the middle of a deploy or rollback is recorded, so the
# log and `status` tell the truth about what state was left behind.
on_interrupt() { # action tag previous
  trap - INT TERM
  [ "$DRY_RUN" -eq 1 ] || record "$1" "$2" "$3" aborted "interrupted; services may run a mix of tags: run status"
  die "interrupted during $1 of $2: check scripts/deploy.sh status --env $DEPLOY_ENV"
}

do_deploy() {
  prepare_state
  local prev
  prev=$(current_tag)
  # shellcheck disable=SC2064 # the values are meant to be fixed now
  trap "on_interrupt deploy '$TAG' '$prev'" INT TERM
  step "deploy $IMAGE:$TAG to $DEPLOY_ENV (project $PROJECT; running now: ${prev:-nothing recorded})"

  step "1/7 pre-deploy checks"
  if ! run "$ROOT/scripts/pre-deploy-check.sh" --env-file "$ENV_FILE" --env "$DEPLOY_ENV" --tag "$TAG" \
    --compose --allow-pending-migrations; then
    record deploy "$TAG" "$prev" aborted "pre-deploy checks failed"
    die "pre-deploy checks failed; nothing was changed"
  fi

  step "2/7 back up the database"
  local keep=()
  [ "$BACKUP_KEEP" = 0 ] || keep=(--keep "$BACKUP_KEEP")
  if ! run "$ROOT/scripts/backup-db.sh" --compose-file "$COMPOSE_FILE" --env-file "$ENV_FILE" \
    --dir "$BACKUP_DIR" --label pre-deploy --tag "$TAG" --no-redis "${keep[@]}"; then
    record deploy "$TAG" "$prev" aborted "backup failed"
    die "backup failed; nothing was changed"
  fi

  step "3/7 image $IMAGE:$TAG"
  if [ "$DRY_RUN" -eq 1 ] || ! "${DOCKER_CMD[@]}" image inspect "$IMAGE:$TAG" >/dev/null 2>&1; then
    if ! run "${DOCKER_CMD[@]}" pull "$IMAGE:$TAG"; then
      record deploy "$TAG" "$prev" aborted "image pull failed"
      die "cannot pull $IMAGE:$TAG; nothing was changed"
    fi
  fi
  [ "$DRY_RUN" -eq 1 ] || printf '%s\t%s\n' "$TAG" "$(utc_now)" >"$STATE_DIR/$DEPLOY_ENV.pending"

  step "4/7 migrate (additive only)"
  if ! dc "$TAG" run --rm -T migrate || ! dc "$TAG" run --rm --no-deps -T migrate reporterctl check; then
    record deploy "$TAG" "$prev" aborted "migrations failed"
    [ "$DRY_RUN" -eq 1 ] || rm -f "$STATE_DIR/$DEPLOY_ENV.pending"
    die "migrations failed; the running release is unchanged (see docs/runbook.md, migrations failing)"
  fi

  step "5/7 rolling restart: api replicas one at a time, beat, workers"
  local failure=''
  restart_app "$TAG" || failure="services not healthy"
  if [ -z "$failure" ]; then
    step "6/7 smoke test"
    smoke "$TAG" || failure="smoke test failed"
  fi
  [ "$DRY_RUN" -eq 1 ] || rm -f "$STATE_DIR/$DEPLOY_ENV.pending"

  if [ -z "$failure" ]; then
    step "7/7 record"
    keep_release_compose "$TAG"
    record deploy "$TAG" "$prev" success
    step "deployed $TAG to $DEPLOY_ENV"
    if [ "$DRY_RUN" -eq 1 ]; then
      printf '# on a failure in 5/7 or 6/7: roll back to %s (5/7 and 6/7 again, no migrations)\n' "${prev:-nothing (first deploy)}"
    fi
    return 0
  fi

  warn "$TAG: $failure"
  if [ -z "$prev" ]; then
    record deploy "$TAG" "$prev" failed "$failure; no previous release to roll back to"
    die "deploy of $TAG failed ($failure) and there is no previous known-good release to go back to"
  fi
  if [ "$prev" = "$TAG" ]; then
    # A redeploy of the running tag (e.g. after an .env change): going back
    # to an older release would not undo what changed, so a human decides.
    record deploy "$TAG" "$prev" failed "$failure; redeploy of the running tag, not rolled back"
    die "redeploy of $TAG failed ($failure); not rolling back to an older release automatically: check .env and docs/runbook.md, or scripts/deploy.sh rollback --env $DEPLOY_ENV"
  fi
  record deploy "$TAG" "$prev" rolled-back "$failure"
  log "rolling back automatically to $prev"
  use_release_compose "$prev"
  if restart_app "$prev" && smoke "$prev"; then
    record auto-rollback "$prev" "$TAG" success "after: $failure"
    die "deploy of $TAG failed ($failure); rolled back to $prev, which passes the smoke test"
  fi
  record auto-rollback "$prev" "$TAG" failed "after: $failure"
  die "deploy of $TAG failed ($failure) AND the rollback to $prev failed: follow docs/rollback.md (SEV1)"
}

do_rollback() {
  prepare_state
  local cur target
  cur=$(current_tag)
  target=${TAG:-$(previous_tag)}
  # shellcheck disable=SC2064 # the values are meant to be fixed now
  trap "on_interrupt rollback '$target' '$cur'" INT TERM
  [ -n "$target" ] || die "no previous known-good release of $DEPLOY_ENV in $LOG_FILE; give --tag TAG"
  [ "$target" != "$cur" ] || die "$DEPLOY_ENV already runs $target"
  step "roll back $DEPLOY_ENV from ${cur:-unknown} to $target (no migrations, no data change)"
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '# with %s if kept, else %s\n' "$(release_compose "$target")" "${COMPOSE_FILE#"$ROOT"/}"
    [ ! -f "$(release_compose "$target")" ] || RUN_COMPOSE_FILE=$(release_compose "$target")
  else
    use_release_compose "$target"
  fi
  step "1/3 rolling restart: api replicas one at a time, beat, workers"
  local failure=''
  restart_app "$target" || failure="services not healthy"
  if [ -z "$failure" ]; then
    step "2/3 smoke test"
    smoke "$target" || failure="smoke test failed"
  fi
  step "3/3 record"
  if [ -z "$failure" ]; then
    record rollback "$target" "$cur" success
    step "rolled back $DEPLOY_ENV to $target"
    return 0
  fi
  record rollback "$target" "$cur" failed "$failure"
  die "rollback to $target failed ($failure): follow docs/rollback.md"
}

do_status() {
  local cur prev pending=''
  cur=$(current_tag) prev=$(previous_tag)
  [ ! -f "$STATE_DIR/$DEPLOY_ENV.pending" ] || pending=$(cut -f1 "$STATE_DIR/$DEPLOY_ENV.pending")
  printf 'environment: %s (project %s, %s)\n' "$DEPLOY_ENV" "$PROJECT" "${COMPOSE_FILE#"$ROOT"/}"
  printf 'image:       %s\n' "$IMAGE"
  printf 'current:     %s\n' "${cur:-none recorded}"
  printf 'previous:    %s\n' "${prev:-none recorded}"
  [ -z "$pending" ] || printf 'UNFINISHED:  a deploy of %s started and never finished (see %s)\n' "$pending" "$LOG_FILE"
  if [ -f "$LOG_FILE" ]; then
    printf 'last deploys (%s):\n' "$LOG_FILE"
    awk -F '\t' -v env="$DEPLOY_ENV" '$2 == env' "$LOG_FILE" | tail -n 5 \
      | awk -F '\t' '{ printf "  %s  %-13s %-20s %-12s from %s by %s%s\n", $1, $3, $4, $6, $5, $7, ($8 != "-" ? "  (" $8 ")" : "") }'
  fi
  [ -z "$cur" ] || [ ! -f "$(release_compose "$cur")" ] || RUN_COMPOSE_FILE=$(release_compose "$cur")
  if [ -n "$cur" ] && [ "$DRY_RUN" -eq 0 ]; then
    echo "containers:"
    dc_read "$cur" ps 2>&1 | sed 's/^/  /' || true
  fi
  local body code
  body=$(curl -sS --max-time 5 -w '\n%{http_code}' "$BASE_URL/api/v1/healthz" 2>/dev/null || true)
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  local health
  health=$(HEALTH_BODY=$body python3 -c 'import json, os
try:
    print(json.loads(os.environ["HEALTH_BODY"]).get("status", "unknown"))
except Exception:
    print("unknown")' 2>/dev/null || echo unknown)
  if [ -z "$code" ] || [ "$code" = 000 ]; then
    printf 'health:      unreachable (%s/api/v1/healthz)\n' "$BASE_URL"
    return 3
  fi
  printf 'health:      %s (HTTP %s, %s/api/v1/healthz)\n' "$health" "$code" "$BASE_URL"
  [ "$health" = healthy ] || [ "$health" = degraded ] || return 3
}

case "$ACTION" in
  deploy) do_deploy ;;
  rollback) do_rollback ;;
  status) do_status ;;
  current)
    t=$(current_tag)
    [ -n "$t" ] || die "no deploy of $DEPLOY_ENV recorded in $LOG_FILE"
    printf '%s\n' "$t"
    ;;
esac
