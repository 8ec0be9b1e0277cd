#!/usr/bin/env bash
# Prints a fresh block of secrets for a Reporter .env file: POSTGRES_PASSWORD
# and REDIS_PASSWORD (32 random letters and digits), REPORTER_CREDENTIALS_KEY
# (base64 of 32 random bytes), DATABASE_URL and REDIS_URL built from them, and
# SMOKE_PASSWORD for the deploy smoke-test account. Reporter has no other
# signing key: API tokens are random and stored hashed.
#
#   scripts/generate-secrets.sh                      # print the block on stdout
#   scripts/generate-secrets.sh --output .env        # write it (mode 600)
#   scripts/generate-secrets.sh --template deploy/env.example --output .env
#                                                    # the whole env file, secrets filled in
#
# Options:
#   --output FILE      write to FILE instead of stdout. An existing FILE is never
#                      replaced silently: on a terminal you are asked, otherwise
#                      the script refuses unless --force (the old file is kept as
#                      FILE.bak-<time>).
#   --force            replace an existing --output FILE without asking
#   --template FILE    start from FILE (e.g. deploy/env.example) and replace the
#                      generated keys in it; other lines are kept as they are
#   --db-user NAME     PostgreSQL user (default: POSTGRES_USER of the template, or reporter)
#   --db-name NAME     PostgreSQL database (default: POSTGRES_DB of the template, or reporter)
#   --db-host HOST     PostgreSQL host in DATABASE_URL (default postgres, the compose service)
#   --redis-host HOST  Redis host in REDIS_URL (default redis, the compose service)
#   -h, --help         this text
#
# Changing the secrets of a running system is not done by re-running this:
# the database keeps its first password and the credentials key decrypts the
# stored portal passwords (see docs/configuration.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"

OUTPUT='' FORCE=0 TEMPLATE='' DB_USER='' DB_NAME='' DB_HOST=postgres REDIS_HOST=redis
while [ $# -gt 0 ]; do
  case "$1" in
    --output) [ $# -ge 2 ] || usage_error "--output needs a file"; OUTPUT=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    --template) [ $# -ge 2 ] || usage_error "--template needs a file"; TEMPLATE=$2; shift 2 ;;
    --db-user) [ $# -ge 2 ] || usage_error "--db-user needs a name"; DB_USER=$2; shift 2 ;;
    --db-name) [ $# -ge 2 ] || usage_error "--db-name needs a name"; DB_NAME=$2; shift 2 ;;
    --db-host) [ $# -ge 2 ] || usage_error "--db-host needs a host"; DB_HOST=$2; shift 2 ;;
    --redis-host) [ $# -ge 2 ] || usage_error "--redis-host needs a host"; REDIS_HOST=$2; shift 2 ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
need_cmd python3

if [ -n "$TEMPLATE" ]; then
  load_env_file "$TEMPLATE" || die "cannot read template $TEMPLATE"
  DB_USER=${DB_USER:-$(envf POSTGRES_USER)}
  DB_NAME=${DB_NAME:-$(envf POSTGRES_DB)}
fi
DB_USER=${DB_USER:-reporter}
DB_NAME=${DB_NAME:-reporter}
for v in DB_USER DB_NAME DB_HOST REDIS_HOST; do
  [[ ${!v} =~ ^[A-Za-z0-9_.-]+$ ]] || usage_error "${v,,} must be letters, digits, '.', '_' or '-'"
done

# Refuse early, before any secret exists.
if [ -n "$OUTPUT" ] && [ -e "$OUTPUT" ] && [ "$FORCE" -ne 1 ]; then
  if [ -t 0 ] && [ -t 2 ]; then
    printf '%s exists. Replace it (the old one is kept as a .bak file)? [y/N] ' "$OUTPUT" >&2
    read -r answer
    [[ $answer =~ ^[Yy]([Ee][Ss])?$ ]] || die "left $OUTPUT as it was"
  else
    die "$OUTPUT exists; not replacing it without --force (no terminal to ask on)"
  fi
fi

# Values travel to awk through the environment, never through argv.
GEN_POSTGRES_USER=$DB_USER
GEN_POSTGRES_DB=$DB_NAME
GEN_POSTGRES_PASSWORD=$(random_alnum 32)
GEN_REDIS_PASSWORD=$(random_alnum 32)
GEN_REPORTER_CREDENTIALS_KEY=$(random_b64 32)
GEN_DATABASE_URL="postgres://${DB_USER}:${GEN_POSTGRES_PASSWORD}@${DB_HOST}:5432/${DB_NAME}"
GEN_REDIS_URL="redis://:${GEN_REDIS_PASSWORD}@${REDIS_HOST}:6379/0"
GEN_SMOKE_PASSWORD=$(random_alnum 32)
export GEN_POSTGRES_USER GEN_POSTGRES_DB GEN_POSTGRES_PASSWORD GEN_REDIS_PASSWORD \
  GEN_REPORTER_CREDENTIALS_KEY GEN_DATABASE_URL GEN_REDIS_URL GEN_SMOKE_PASSWORD
GENERATED_KEYS="POSTGRES_USER POSTGRES_DB POSTGRES_PASSWORD REDIS_PASSWORD REPORTER_CREDENTIALS_KEY DATABASE_URL REDIS_URL SMOKE_PASSWORD"

render() {
  if [ -n "$TEMPLATE" ]; then
    # Replace KEY=... lines of generated keys; append the ones the template lacks.
    KEYS=$GENERATED_KEYS awk '
      BEGIN { n = split(ENVIRON["KEYS"], k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
      match($0, /^[[:space:]]*(export[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*=/) {
        key = substr($0, RSTART, RLENGTH - 1); sub(/^[[:space:]]*(export[[:space:]]+)?/, "", key)
        if (key in want) { print key "=" ENVIRON["GEN_" key]; seen[key] = 1; next }
      }
      { print }
      END {
        for (i = 1; i <= n; i++) if (!(k[i] in seen)) {
          if (!extra++) print "\n# Added by scripts/generate-secrets.sh"
          print k[i] "=" ENVIRON["GEN_" k[i]]
        }
      }' "$TEMPLATE"
  else
    printf '# Reporter secrets, generated %s by scripts/generate-secrets.sh.\n' "$(utc_now)"
    printf '# Keep this file private (chmod 600) and out of git.\n'
    local k
    for k in $GENERATED_KEYS; do
      local var="GEN_$k"
      printf '%s=%s\n' "$k" "${!var}"
    done
  fi
}

if [ -z "$OUTPUT" ]; then
  [ -t 1 ] && warn "printing secrets to the terminal; redirect or use --output FILE to keep them off screen"
  render
  exit 0
fi

dir=$(dirname "$OUTPUT")
[ -d "$dir" ] || die "directory $dir does not exist"
umask 077
tmp=$(mktemp "$dir/.generate-secrets.XXXXXX")
trap 'rm -f "$tmp"' EXIT
render >"$tmp"
chmod 600 "$tmp"
if [ -e "$OUTPUT" ]; then
  backup="$OUTPUT.bak-$(utc_stamp)"
  cp -p "$OUTPUT" "$backup"
  chmod 600 "$backup"
  log "kept the previous file as $backup"
fi
mv -f "$tmp" "$OUTPUT"
trap - EXIT
log "wrote $OUTPUT (mode 600); the secrets were not printed"
