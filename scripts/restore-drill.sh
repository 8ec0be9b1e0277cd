#!/usr/bin/env bash
# Restore drill: proves the newest backup can be restored and holds what its
# manifest says. A backup that was never restored is not a backup.
#
#   scripts/restore-drill.sh --url ADMIN_URL [options]          # PostgreSQL reached by URL
#   scripts/restore-drill.sh --compose-file FILE [options]      # inside the compose postgres service
#
# Steps: picks the newest backup set in DIR that has a manifest (optionally of
# one kind); verifies the sha256 of its files (the .sha256 files and the
# manifest agree); decrypts on the fly when encrypted; restores the dump with
# scripts/restore-db.sh into a new scratch database reporter_drill_<UTC time>
# on the same server; recomputes every table's row count and checksum there
# and compares them with the manifest; checks the Redis copy (it decrypts and
# starts with an RDB header; with redis-check-rdb installed, it is checked
# whole); drops the scratch database; prints a table and a verdict.
#
# Options:
#   --url ADMIN_URL      PostgreSQL URL of a maintenance database (e.g. .../postgres) as a
#                        user that may create databases (default $RESTORE_ADMIN_URL)
#   --compose-file FILE  run psql/pg_restore inside the compose postgres service
#   --env-file FILE      env file (default: .env at the repository root, read in compose
#                        mode); BACKUP_DIR, BACKUP_AGE_IDENTITY, BACKUP_METRICS_DIR come
#                        from it when the environment does not set them
#   --service NAME       compose service running PostgreSQL (default postgres)
#   --dir DIR            backup directory (default $BACKUP_DIR, else ./backups)
#   --label KIND         drill the newest backup of this kind (nightly, pre-deploy, ...)
#   --file FILE          drill this backup (a .dump or .dump.age with its manifest)
#   --identity FILE      age identity file for encrypted backups (default $BACKUP_AGE_IDENTITY)
#   --metrics-dir DIR    node_exporter textfile directory (default $BACKUP_METRICS_DIR, else
#                        DIR/metrics, as backup-db.sh); on success reporter_restore_drill.prom
#                        there holds reporter_backup_drill_last_success_timestamp_seconds
#   --no-metrics         write no metrics file
#   --keep-db            keep the scratch database (to look at it); drop it yourself
#   -h, --help           this text
#
# Exit: 0 the drill passed, 1 it failed (a mismatch, a damaged or missing
# backup, a failed restore), 2 usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"
# shellcheck source=scripts/lib/backup-common.sh
source "$ROOT/scripts/lib/backup-common.sh"

URL_SET=0 COMPOSE_FILE='' ENV_FILE="$ROOT/.env" ENV_FILE_SET=0 SERVICE=postgres
DIR='' KIND='' FILE='' KEEP_DB=0 METRICS=1
IDENTITY=${BACKUP_AGE_IDENTITY-} METRICS_DIR=${BACKUP_METRICS_DIR-}
[ -z "${RESTORE_ADMIN_URL:-}" ] || URL_SET=1
while [ $# -gt 0 ]; do
  case "$1" in
    --url) [ $# -ge 2 ] || usage_error "--url needs a URL"; RESTORE_ADMIN_URL=$2; URL_SET=1; shift 2 ;;
    --compose-file) [ $# -ge 2 ] || usage_error "--compose-file needs a file"; COMPOSE_FILE=$2; shift 2 ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; ENV_FILE=$2; ENV_FILE_SET=1; shift 2 ;;
    --service) [ $# -ge 2 ] || usage_error "--service needs a name"; SERVICE=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    --label) [ $# -ge 2 ] || usage_error "--label needs a value"; KIND=$2; shift 2 ;;
    --file) [ $# -ge 2 ] || usage_error "--file needs a file"; FILE=$2; shift 2 ;;
    --identity) [ $# -ge 2 ] || usage_error "--identity needs a file"; IDENTITY=$2; shift 2 ;;
    --metrics-dir) [ $# -ge 2 ] || usage_error "--metrics-dir needs a directory"; METRICS_DIR=$2; shift 2 ;;
    --no-metrics) METRICS=0; shift ;;
    --keep-db) KEEP_DB=1; shift ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
[ "$URL_SET" -eq 1 ] || [ -n "$COMPOSE_FILE" ] || usage_error "give --url ADMIN_URL or --compose-file FILE"
[ "$URL_SET" -eq 0 ] || [ -z "$COMPOSE_FILE" ] || usage_error "give --url or --compose-file, not both"
need_cmd sha256sum
need_cmd python3

load_backup_env
[ -n "${BACKUP_AGE_IDENTITY+set}" ] || [ -n "$IDENTITY" ] || IDENTITY=$(envf BACKUP_AGE_IDENTITY)
resolve_metrics_dir

# --- 1. which backup ---------------------------------------------------------------------
if [ -n "$FILE" ]; then
  [ -f "$FILE" ] || die "backup $FILE not found"
  FDIR=$(cd "$(dirname "$FILE")" && pwd)
  base=$(basename "$FILE")
  base=${base%.age}
  base=${base%.dump}
  MANIFEST="$FDIR/$base.manifest.json"
  [ -f "$MANIFEST" ] || die "$MANIFEST not found: a backup without a manifest cannot be drilled (made before backup-db.sh wrote manifests?)"
else
  [ -d "$DIR" ] || die "backup directory $DIR not found"
  MANIFEST=$(python3 - "$DIR" "$KIND" <<'PY'
import glob, json, os, sys
d, kind = sys.argv[1], sys.argv[2]
best = None
for path in glob.glob(os.path.join(d, "*.manifest.json")):
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError):
        continue
    if kind and m.get("label") != kind:
        continue
    key = (m.get("created_at") or "", os.path.getmtime(path), path)
    if best is None or key > best:
        best = key
print(best[2] if best else "")
PY
  )
  [ -n "$MANIFEST" ] || die "no backup with a manifest in $DIR${KIND:+ of kind $KIND}"
fi
# The manifest's facts, one per line: database, label, created_at, dump file,
# dump sha256, whether it has tables, redis file, redis sha256.
mapfile -t M < <(python3 - "$MANIFEST" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
d, r = m.get("dump") or {}, m.get("redis") or {}
for v in (m.get("database"), m.get("label"), m.get("created_at"), d.get("file"), d.get("sha256"),
          "yes" if isinstance(m.get("tables"), dict) else "no", r.get("file"), r.get("sha256")):
    print("" if v is None else str(v).replace("\n", " "))
PY
) || die "cannot read the manifest $MANIFEST"
[ ${#M[@]} -eq 8 ] || die "cannot read the manifest $MANIFEST"
MDIR=$(cd "$(dirname "$MANIFEST")" && pwd)
DUMP="$MDIR/${M[3]}"
log "drilling ${M[1]} backup of ${M[0]} made ${M[2]}: $DUMP"
[ "${M[5]}" = yes ] || die "the manifest $MANIFEST has no table checksums (the backup ran without a snapshot session): it cannot be verified"

# --- 2. the files are what was backed up --------------------------------------------------
fail=0
problems=()
problem() { problems+=("$*"); printf 'FAIL %s\n' "$*"; fail=1; }
check_file() { # file sha256-from-manifest what
  local why
  if [ ! -f "$1" ]; then problem "$3: $1 not found"; return 1; fi
  if ! why=$(sha256_matches "$1" 2>&1); then problem "$3: $why"; return 1; fi
  if [ "$(sha256sum "$1" | awk '{ print $1 }')" != "$2" ]; then
    problem "$3: the sha256 in the manifest does not match $1"; return 1
  fi
  printf 'ok   %s: sha256 verified\n' "$3"
}
check_file "$DUMP" "${M[4]}" "database dump" || die "the dump cannot be trusted; drill failed"
if is_age_file "$DUMP" || { [ -n "${M[6]}" ] && is_age_file "$MDIR/${M[6]}" 2>/dev/null; }; then
  [ -n "$IDENTITY" ] || die "the backup is encrypted: give the age identity file (--identity or BACKUP_AGE_IDENTITY)"
  need_cmd age "install age (apt-get install age)"
  need_age_identity "$IDENTITY"
fi
why=$(check_opens "$DUMP" PGDMP "$IDENTITY" 2>&1) || die "$why; drill failed"

# --- 3. restore into a scratch database -----------------------------------------------------
DRILL_DB="reporter_drill_$(date -u +%Y%m%d%H%M%S)"
RESTORE_ARGS=(--target-db "$DRILL_DB")
if [ -n "$COMPOSE_FILE" ]; then
  [ -f "$COMPOSE_FILE" ] || die "compose file $COMPOSE_FILE not found"
  read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
  dc() { env "REPORTER_TAG=${REPORTER_TAG:-drill}" "${COMPOSE_CMD[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" "$@"; }
  # shellcheck disable=SC2016
  admin_sql() { dc exec -T "$SERVICE" sh -c 'exec psql -X -v ON_ERROR_STOP=1 -Atq -U "$POSTGRES_USER" -d postgres'; }
  # shellcheck disable=SC2016
  drill_sql() { dc exec -T "$SERVICE" sh -c 'exec psql -X -v ON_ERROR_STOP=1 -Atq -U "$POSTGRES_USER" -d "$1"' sh "$DRILL_DB"; }
  RESTORE_ARGS+=(--compose-file "$COMPOSE_FILE" --env-file "$ENV_FILE" --service "$SERVICE")
else
  need_cmd psql "install postgresql-client"
  export RESTORE_ADMIN_URL
  export_pg_env_from_url RESTORE_ADMIN_URL || die "--url is not a postgres:// URL"
  admin_sql() { psql -X -v ON_ERROR_STOP=1 -Atq; }
  drill_sql() { PGDATABASE=$DRILL_DB psql -X -v ON_ERROR_STOP=1 -Atq; }
fi
[ -z "$IDENTITY" ] || RESTORE_ARGS+=(--identity "$IDENTITY")

created=0
TMP=$(mktemp -d)
cleanup() {
  if [ "$created" -eq 1 ] && [ "$KEEP_DB" -eq 0 ]; then
    printf 'DROP DATABASE IF EXISTS "%s" WITH (FORCE);\n' "$DRILL_DB" | admin_sql >/dev/null 2>&1 \
      || warn "could not drop the scratch database $DRILL_DB: drop it by hand"
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(printf "SELECT count(*) FROM pg_database WHERE datname = '%s';\n" "$DRILL_DB" | admin_sql)" = 0 ] \
  || die "database $DRILL_DB exists already (another drill running?)"
log "restoring into the scratch database $DRILL_DB"
created=1
if ! "$ROOT/scripts/restore-db.sh" "$DUMP" "${RESTORE_ARGS[@]}" >"$TMP/restore.log" 2>&1; then
  sed 's/^/    /' "$TMP/restore.log" >&2
  problem "restore-db.sh failed"
else
  printf 'ok   restored into %s\n' "$DRILL_DB"
  # --- 4. the restored tables against the manifest -----------------------------------------
  if ! { printf 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n'; backup_stats_sql; printf 'COMMIT;\n'; } \
    | drill_sql >"$TMP/stats" 2>"$TMP/stats.err"; then
    sed 's/^/    /' "$TMP/stats.err" >&2
    problem "could not compute the checksums of $DRILL_DB"
  elif ! python3 - "$MANIFEST" "$TMP/stats" <<'PY'; then
import json, sys
want = json.load(open(sys.argv[1], encoding="utf-8"))["tables"]
have = {}
for line in open(sys.argv[2], encoding="utf-8"):
    parts = line.rstrip("\n").rsplit("|", 2)
    if len(parts) == 3 and parts[1].isdigit():
        have[parts[0]] = {"rows": int(parts[1]), "checksum": parts[2]}
names = sorted(set(want) | set(have))
w = max([len(n) for n in names] + [5])
print(f"{'table':<{w}}  {'rows (backup)':>13}  {'rows (restored)':>15}  checksum  result")
bad = 0
for n in names:
    a, b = want.get(n), have.get(n)
    ra = "-" if a is None else str(a["rows"])
    rb = "-" if b is None else str(b["rows"])
    if a is None or b is None:
        c, res = "-", "MISSING IN " + ("BACKUP MANIFEST" if a is None else "RESTORE")
    else:
        same = a["checksum"] == b["checksum"]
        c = "same" if same else "DIFFERS"
        res = "ok" if same and a["rows"] == b["rows"] else "MISMATCH"
    if res != "ok":
        bad += 1
    print(f"{n:<{w}}  {ra:>13}  {rb:>15}  {c:<8}  {res}")
total = sum(t["rows"] for t in have.values())
print(f"{len(names)} tables, {total} rows restored, {bad} mismatched")
sys.exit(1 if bad else 0)
PY
    problem "the restored database does not match the manifest"
  else
    printf 'ok   every table matches the manifest (row counts and checksums)\n'
  fi
fi

# --- 5. the Redis copy ------------------------------------------------------------------------
if [ -n "${M[6]}" ]; then
  RDB="$MDIR/${M[6]}"
  if check_file "$RDB" "${M[7]}" "Redis copy"; then
    if ! why=$(check_opens "$RDB" REDIS "$IDENTITY" 2>&1); then
      problem "Redis copy: $why"
    elif command -v redis-check-rdb >/dev/null 2>&1; then
      if open_backup "$RDB" "$IDENTITY" | redis-check-rdb /dev/stdin >"$TMP/rdb.check" 2>&1; then
        printf 'ok   Redis copy: redis-check-rdb passed (%s)\n' "$(grep -oE '[0-9]+ keys read' "$TMP/rdb.check" || echo '? keys')"
      else
        sed 's/^/    /' "$TMP/rdb.check" | tail -n 5 >&2
        problem "Redis copy: redis-check-rdb failed"
      fi
    else
      printf 'ok   Redis copy: opens and starts with an RDB header (install redis-tools for a full check)\n'
    fi
  fi
else
  printf 'skip the backup has no Redis copy\n'
fi

# --- 6. verdict ---------------------------------------------------------------------------------
[ "$KEEP_DB" -eq 0 ] || log "kept the scratch database $DRILL_DB (--keep-db): drop it when done"
if [ "$fail" -ne 0 ]; then
  printf 'DRILL FAILED: %s (%s)\n' "$(basename "$DUMP")" "$(IFS=';'; printf '%s' "${problems[*]}")"
  exit 1
fi
printf 'DRILL PASSED: %s restored and verified\n' "$(basename "$DUMP")"
if [ "$METRICS" -eq 1 ]; then
  write_prom "$METRICS_DIR/reporter_restore_drill.prom" "\
# HELP reporter_backup_drill_last_success_timestamp_seconds Unix time of the last restore drill that passed (scripts/restore-drill.sh).
# TYPE reporter_backup_drill_last_success_timestamp_seconds gauge
reporter_backup_drill_last_success_timestamp_seconds $(date +%s)" \
    || warn "could not write the metrics file in $METRICS_DIR"
fi
