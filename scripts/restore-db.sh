#!/usr/bin/env bash
# Restores a backup made by scripts/backup-db.sh into a named database.
#
#   scripts/restore-db.sh FILE --target-db NAME --url ADMIN_URL [--force]
#   scripts/restore-db.sh FILE --target-db NAME --compose-file FILE [--force]
#
# FILE is a .dump, or a .dump.age encrypted by backup-db.sh (BACKUP_AGE_RECIPIENT):
# that one is decrypted on the fly with the age identity file given by --identity
# (default $BACKUP_AGE_IDENTITY) and streamed into pg_restore; no plaintext is
# written to disk. The Redis copy of a backup set (.rdb[.age]) is restored by
# hand: see docs/rollback.md.
#
# Safety:
#   - FILE must match FILE.sha256 (written by backup-db.sh) and be (once
#     decrypted) a pg_dump custom-format archive, or nothing happens.
#   - The backup is first restored into NAME_restoring; NAME is touched only
#     once that restore succeeded, so a failed restore changes nothing.
#   - A database that exists is replaced only with --force. Then the old one is
#     not dropped: it is renamed NAME_pre_restore_<time> (drop it yourself once
#     you are sure). Connections to it are closed, so stop api, beat and
#     workers first when restoring the live database.
#   - The production database (NAME matches PROD_DB_NAME: default `reporter`;
#     a comma-separated list of names or shell patterns) is refused without
#     --force, however the rest is set.
#
# Options:
#   --target-db NAME     database to restore into (letters, digits, _; at most 40)
#   --url ADMIN_URL      PostgreSQL URL of a maintenance database (e.g. .../postgres) as
#                        a user that may create databases (default $RESTORE_ADMIN_URL);
#                        read into PG* variables, never put on a command line
#   --compose-file FILE  run psql/pg_restore inside the compose postgres service
#   --env-file FILE      env file for compose (default: .env at the repository root)
#   --service NAME       compose service running PostgreSQL (default postgres)
#   --prod-db-name LIST  overrides PROD_DB_NAME
#   --identity FILE      age identity (private key) file for an encrypted backup
#   --force              replace an existing database (production included)
#   -h, --help           this text
#
# Environment: COMPOSE (default "docker compose"), PROD_DB_NAME, BACKUP_AGE_IDENTITY.
# Exit: 0 restored, 1 error, 2 usage error, 3 refused (would overwrite without --force).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"
# shellcheck source=scripts/lib/backup-common.sh
source "$ROOT/scripts/lib/backup-common.sh"

IDENTITY=${BACKUP_AGE_IDENTITY:-}
FILE='' TARGET='' URL_SET=0 COMPOSE_FILE='' ENV_FILE="$ROOT/.env" SERVICE=postgres FORCE=0
PROD_NAMES=${PROD_DB_NAME:-reporter}
[ -z "${RESTORE_ADMIN_URL:-}" ] || URL_SET=1
while [ $# -gt 0 ]; do
  case "$1" in
    --target-db) [ $# -ge 2 ] || usage_error "--target-db needs a name"; TARGET=$2; shift 2 ;;
    --url) [ $# -ge 2 ] || usage_error "--url needs a URL"; RESTORE_ADMIN_URL=$2; URL_SET=1; shift 2 ;;
    --compose-file) [ $# -ge 2 ] || usage_error "--compose-file needs a file"; COMPOSE_FILE=$2; shift 2 ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; ENV_FILE=$2; shift 2 ;;
    --service) [ $# -ge 2 ] || usage_error "--service needs a name"; SERVICE=$2; shift 2 ;;
    --prod-db-name) [ $# -ge 2 ] || usage_error "--prod-db-name needs a value"; PROD_NAMES=$2; shift 2 ;;
    --identity) [ $# -ge 2 ] || usage_error "--identity needs a file"; IDENTITY=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h | --help) print_help "$0"; exit 0 ;;
    -*) usage_error "unknown option $1" ;;
    *) [ -z "$FILE" ] || usage_error "one backup file only"; FILE=$1; shift ;;
  esac
done
[ -n "$FILE" ] || usage_error "which backup file?"
[ -n "$TARGET" ] || usage_error "--target-db NAME is required"
[[ $TARGET =~ ^[A-Za-z_][A-Za-z0-9_]{0,39}$ ]] \
  || usage_error "--target-db must be letters, digits and _ (at most 40, not starting with a digit)"
[ "$URL_SET" -eq 1 ] || [ -n "$COMPOSE_FILE" ] || usage_error "give --url ADMIN_URL or --compose-file FILE"
[ "$URL_SET" -eq 0 ] || [ -z "$COMPOSE_FILE" ] || usage_error "give --url or --compose-file, not both"
need_cmd sha256sum

# --- 1. the file is what was backed up ------------------------------------------
[ -f "$FILE" ] || die "backup $FILE not found"
[ -f "$FILE.sha256" ] || die "$FILE.sha256 not found: refusing to restore an unverified backup"
why=$(sha256_matches "$FILE" 2>&1) || die "$why; not restoring"
if is_age_file "$FILE"; then
  [ -n "$IDENTITY" ] || die "$FILE is encrypted: give the age identity file with --identity FILE (or BACKUP_AGE_IDENTITY)"
  need_cmd age "install age (apt-get install age)"
  need_age_identity "$IDENTITY"
fi
why=$(check_opens "$FILE" PGDMP "$IDENTITY" 2>&1) || die "$why; not restoring"
log "checksum ok ($FILE)"

# --- 2. production guard ------------------------------------------------------------
is_prod=0
IFS=',' read -ra prod_patterns <<<"$PROD_NAMES"
for p in "${prod_patterns[@]}"; do
  p=${p//[[:space:]]/}
  [ -n "$p" ] || continue
  # shellcheck disable=SC2053 # the pattern is meant to glob
  if [[ $TARGET == $p ]]; then is_prod=1; fi
done
if [ "$is_prod" -eq 1 ] && [ "$FORCE" -ne 1 ]; then
  printf 'error: %s is a production database (PROD_DB_NAME=%s): refusing to overwrite it without --force\n' \
    "$TARGET" "$PROD_NAMES" >&2
  exit 3
fi

# --- 3. how to reach PostgreSQL -------------------------------------------------------
if [ -n "$COMPOSE_FILE" ]; then
  [ -f "$COMPOSE_FILE" ] || die "compose file $COMPOSE_FILE not found"
  read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
  dc() { env "REPORTER_TAG=${REPORTER_TAG:-restore}" "${COMPOSE_CMD[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" "$@"; }
  # SQL on stdin; runs as the container's POSTGRES_USER in its maintenance db.
  # shellcheck disable=SC2016
  sql() { dc exec -T "$SERVICE" sh -c 'exec psql -X -v ON_ERROR_STOP=1 -Atq -U "$POSTGRES_USER" -d postgres'; }
  # shellcheck disable=SC2016
  restore_into() { open_backup "$FILE" "$IDENTITY" | dc exec -T "$SERVICE" sh -c 'exec pg_restore --no-owner --no-privileges --exit-on-error --single-transaction -U "$POSTGRES_USER" -d "$1"' sh "$1"; }
else
  need_cmd psql "install postgresql-client"
  need_cmd pg_restore "install postgresql-client"
  export RESTORE_ADMIN_URL
  export_pg_env_from_url RESTORE_ADMIN_URL || die "--url is not a postgres:// URL"
  sql() { psql -X -v ON_ERROR_STOP=1 -Atq; }
  restore_into() { open_backup "$FILE" "$IDENTITY" | pg_restore --no-owner --no-privileges --exit-on-error --single-transaction -d "$1"; }
fi

db_exists() { [ "$(printf "SELECT 1 FROM pg_database WHERE datname = '%s';\n" "$1" | sql)" = 1 ]; }
sessions_on() { printf "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND pid <> pg_backend_pid();\n" "$1" | sql; }

if db_exists "$TARGET" && [ "$FORCE" -ne 1 ]; then
  printf 'error: database %s exists: refusing to replace it without --force\n' "$TARGET" >&2
  exit 3
fi

# --- 4. restore beside the target, then swap -------------------------------------------
staging="${TARGET}_restoring"
if db_exists "$staging"; then
  log "dropping $staging left by an earlier restore that did not finish"
  printf 'DROP DATABASE "%s" WITH (FORCE);\n' "$staging" | sql
fi
printf 'CREATE DATABASE "%s";\n' "$staging" | sql
log "restoring into $staging"
if ! restore_into "$staging"; then
  printf 'DROP DATABASE IF EXISTS "%s" WITH (FORCE);\n' "$staging" | sql || true
  die "pg_restore failed; $TARGET was not touched"
fi

if db_exists "$TARGET"; then
  old="${TARGET}_pre_restore_$(date -u +%Y%m%d%H%M%S)"
  [ "$is_prod" -eq 0 ] || warn "replacing the production database $TARGET (--force)"
  log "closing connections to $TARGET and keeping it as $old"
  printf 'ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS false;\n' "$TARGET" | sql
  closed=0
  for _ in $(seq 1 20); do
    printf "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND pid <> pg_backend_pid();\n" "$TARGET" | sql >/dev/null
    if [ "$(sessions_on "$TARGET")" = 0 ]; then closed=1; break; fi
    sleep 0.5
  done
  if [ "$closed" -ne 1 ]; then
    printf 'ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS true;\n' "$TARGET" | sql || true
    die "could not close the connections to $TARGET; it is unchanged and the restored copy is in $staging"
  fi
  printf 'ALTER DATABASE "%s" RENAME TO "%s";\nALTER DATABASE "%s" WITH ALLOW_CONNECTIONS true;\n' \
    "$TARGET" "$old" "$old" | sql
  printf 'ALTER DATABASE "%s" RENAME TO "%s";\n' "$staging" "$TARGET" | sql
  log "restored $TARGET; the previous database is kept as $old (DROP DATABASE \"$old\" when no longer needed)"
else
  printf 'ALTER DATABASE "%s" RENAME TO "%s";\n' "$staging" "$TARGET" | sql
  log "restored into the new database $TARGET"
fi
