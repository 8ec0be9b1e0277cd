#!/usr/bin/env bash
# Backs up the Reporter database with pg_dump (custom format, compressed) to
# BACKUP_DIR/<label>_<database>_<UTC time>.dump, checks the archive reads
# back (pg_restore --list), and writes <file>.sha256 next to it. Files are
# created mode 600. The path of the new backup is the last line on stdout.
#
#   scripts/backup-db.sh --url URL [options]              # pg_dump on this machine
#   scripts/backup-db.sh --compose-file FILE [options]    # pg_dump inside the postgres container
#
# Options:
#   --url URL            PostgreSQL URL of the database to dump (default $BACKUP_DATABASE_URL).
#                        Read into PG* variables: the password never appears in a command line.
#   --compose-file FILE  dump through `docker compose -f FILE exec -T postgres pg_dump`,
#                        as POSTGRES_USER, database POSTGRES_DB of the container
#   --env-file FILE      env file for compose (default: .env at the repository root)
#   --service NAME       compose service running PostgreSQL (default postgres)
#   --dir DIR            backup directory (default $BACKUP_DIR, else ./backups)
#   --label LABEL        file name prefix (default manual), e.g. pre-deploy-v1.4.0
#   --keep N             afterwards delete all but the N newest backups of this
#                        database in DIR (default: keep everything)
#   -h, --help           this text
#
# Environment: COMPOSE (default "docker compose").
# Restore with scripts/restore-db.sh (it verifies the .sha256 first).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"

URL_SET=0 COMPOSE_FILE='' ENV_FILE="$ROOT/.env" SERVICE=postgres
DIR=${BACKUP_DIR:-$ROOT/backups} LABEL=manual KEEP=0
[ -z "${BACKUP_DATABASE_URL:-}" ] || URL_SET=1
while [ $# -gt 0 ]; do
  case "$1" in
    --url) [ $# -ge 2 ] || usage_error "--url needs a URL"; BACKUP_DATABASE_URL=$2; URL_SET=1; shift 2 ;;
    --compose-file) [ $# -ge 2 ] || usage_error "--compose-file needs a file"; COMPOSE_FILE=$2; shift 2 ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; ENV_FILE=$2; shift 2 ;;
    --service) [ $# -ge 2 ] || usage_error "--service needs a name"; SERVICE=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    --label) [ $# -ge 2 ] || usage_error "--label needs a value"; LABEL=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage_error "--keep needs a number"; KEEP=$2; shift 2 ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
[ "$URL_SET" -eq 1 ] || [ -n "$COMPOSE_FILE" ] || usage_error "give --url URL or --compose-file FILE"
[ "$URL_SET" -eq 0 ] || [ -z "$COMPOSE_FILE" ] || usage_error "give --url or --compose-file, not both"
[[ $KEEP =~ ^[0-9]+$ ]] || usage_error "--keep must be a whole number"
LABEL=$(printf '%s' "$LABEL" | tr -c 'A-Za-z0-9._-' '-')
need_cmd sha256sum

if [ -n "$COMPOSE_FILE" ]; then
  [ -f "$COMPOSE_FILE" ] || die "compose file $COMPOSE_FILE not found"
  read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
  DB=reporter
  if [ -r "$ENV_FILE" ]; then load_env_file "$ENV_FILE" && DB=$(envf POSTGRES_DB reporter); fi
  # The compose files require REPORTER_TAG to parse; the postgres service
  # does not use it, so any value will do here.
  dc() { env "REPORTER_TAG=${REPORTER_TAG:-backup}" "${COMPOSE_CMD[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" "$@"; }
  # Variables in single quotes expand inside the container, from its own env.
  # shellcheck disable=SC2016
  dump() { dc exec -T "$SERVICE" sh -c 'exec pg_dump --format=custom --compress=6 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'; }
  # shellcheck disable=SC2016
  verify() { dc exec -T "$SERVICE" sh -c 'exec pg_restore --list >/dev/null' <"$1"; }
else
  need_cmd pg_dump "install postgresql-client"
  need_cmd pg_restore "install postgresql-client"
  export BACKUP_DATABASE_URL
  export_pg_env_from_url BACKUP_DATABASE_URL || die "--url is not a postgres:// URL"
  DB=$PGDATABASE
  dump() { pg_dump --format=custom --compress=6; }
  verify() { pg_restore --list "$1" >/dev/null; }
fi
[[ $DB =~ ^[A-Za-z0-9_.-]+$ ]] || die "database name has characters unsafe in a file name"

umask 077
mkdir -p "$DIR"
# A backup directory inside the repository must never be committed.
case "$(cd "$DIR" && pwd)/" in
  "$ROOT"/*) [ -f "$DIR/.gitignore" ] || printf '*\n' >"$DIR/.gitignore" ;;
esac
stamp=$(utc_stamp)
name="${LABEL}_${DB}_${stamp}.dump"
n=1
while [ -e "$DIR/$name" ]; do n=$((n + 1)); name="${LABEL}_${DB}_${stamp}-$n.dump"; done
file="$DIR/$name"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

log "dumping database $DB to $file"
dump >"$partial" || die "pg_dump failed; no backup written"
[ -s "$partial" ] || die "pg_dump wrote nothing; no backup written"
[ "$(head -c 5 "$partial")" = PGDMP ] || die "pg_dump output is not a custom-format archive"
verify "$partial" || die "the dump does not read back (pg_restore --list failed); no backup written"
mv "$partial" "$file"
trap - EXIT
(cd "$DIR" && sha256sum "$name" >"$name.sha256")
log "backup ok: $(du -h "$file" | cut -f1), sha256 in $name.sha256"

if [ "$KEEP" -gt 0 ]; then
  mapfile -t old < <(find "$DIR" -maxdepth 1 -type f -name "*_${DB}_*.dump" -printf '%T@ %p\n' \
    | sort -rn | tail -n +$((KEEP + 1)) | cut -d' ' -f2-)
  for f in "${old[@]}"; do
    rm -f -- "$f" "$f.sha256"
    log "pruned old backup $(basename "$f")"
  done
fi
printf '%s\n' "$file"
