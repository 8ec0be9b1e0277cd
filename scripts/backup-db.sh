#!/usr/bin/env bash
# Backs up the Reporter database (pg_dump, custom format, compressed) and the
# Redis data (an RDB snapshot) to BACKUP_DIR as one backup set:
#   <kind>[-<tag>]_<database>_<UTC time>.dump        (.dump.age when encrypted)
#   <kind>[-<tag>]_<database>_<UTC time>.rdb         (.rdb.age when encrypted)
#   a .sha256 next to each (of the file as stored), and
#   <kind>[-<tag>]_<database>_<UTC time>.manifest.json: kind, tag, time,
#   database, per-table row counts and checksums, sizes and sha256 of the files.
# The dump is checked to read back (pg_restore --list); the table checksums are
# computed in the same snapshot pg_dump reads (pg_export_snapshot), so the
# manifest describes exactly what is in the dump. Files are mode 600. The path
# of the new dump is the last line on stdout.
#
#   scripts/backup-db.sh --url URL [options]              # pg_dump on this machine
#   scripts/backup-db.sh --compose-file FILE [options]    # pg_dump inside the postgres container
#
# Options:
#   --url URL            PostgreSQL URL of the database to dump (default $BACKUP_DATABASE_URL).
#                        Read into PG* variables: the password never appears in a command line.
#   --compose-file FILE  dump through `docker compose -f FILE exec -T postgres pg_dump`,
#                        as POSTGRES_USER, database POSTGRES_DB of the container
#   --env-file FILE      env file (default: .env at the repository root, read in compose mode);
#                        BACKUP_DIR, BACKUP_AGE_RECIPIENT, BACKUP_METRICS_DIR are taken
#                        from it when the environment does not set them
#   --service NAME       compose service running PostgreSQL (default postgres)
#   --dir DIR            backup directory (default $BACKUP_DIR, else ./backups)
#   --label KIND         kind of backup (default manual): nightly, pre-deploy, manual, ...
#                        Retention counts backups per kind.
#   --tag TAG            what the backup is for, e.g. the release tag of a pre-deploy
#                        backup: part of the file name (<kind>-<tag>_...), not of the kind
#   --keep N             afterwards delete all but the N newest backups of this kind of
#                        this database in DIR (default: keep everything); other kinds
#                        are never touched
#   --age-recipient KEY  encrypt with age for this public key (age1...; several separated
#                        by commas; default $BACKUP_AGE_RECIPIENT; empty: not encrypted).
#                        The files are encrypted as they are written: no plaintext on disk.
#   --no-redis           do not copy Redis
#   --redis-service NAME compose service running Redis (default redis). Compose mode:
#                        BGSAVE, wait for LASTSAVE to change, stream /data/dump.rdb out
#                        (the password comes from the container's env)
#   --redis-url URL      URL mode: copy Redis from this server with `redis-cli --rdb`
#                        (default $BACKUP_REDIS_URL; unset: Redis is not copied)
#   --metrics-dir DIR    node_exporter textfile directory (default $BACKUP_METRICS_DIR,
#                        else DIR/metrics); on success reporter_backup_<kind>.prom there holds
#                        reporter_backup_last_success_timestamp_seconds{label="<kind>"} and
#                        reporter_backup_last_size_bytes{label="<kind>"}
#   --no-metrics         write no metrics file
#   -h, --help           this text
#
# Environment: COMPOSE (default "docker compose"), BACKUP_REDIS_TIMEOUT (seconds to wait
# for BGSAVE, default 600). Restore with scripts/restore-db.sh (it verifies the .sha256
# first); check a backup end to end with scripts/restore-drill.sh.
# Exit: 0 ok, 1 error (nothing kept of a failed backup), 2 usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"
# shellcheck source=scripts/lib/backup-common.sh
source "$ROOT/scripts/lib/backup-common.sh"

URL_SET=0 COMPOSE_FILE='' ENV_FILE="$ROOT/.env" ENV_FILE_SET=0 SERVICE=postgres
DIR='' KIND=manual TAG='' KEEP=0 REDIS=1 REDIS_SERVICE=redis METRICS=1
METRICS_DIR=${BACKUP_METRICS_DIR-} RECIPIENTS=${BACKUP_AGE_RECIPIENT-} REDIS_URL_SET=0
[ -z "${BACKUP_DATABASE_URL:-}" ] || URL_SET=1
[ -z "${BACKUP_REDIS_URL:-}" ] || REDIS_URL_SET=1
while [ $# -gt 0 ]; do
  case "$1" in
    --url) [ $# -ge 2 ] || usage_error "--url needs a URL"; BACKUP_DATABASE_URL=$2; URL_SET=1; shift 2 ;;
    --compose-file) [ $# -ge 2 ] || usage_error "--compose-file needs a file"; COMPOSE_FILE=$2; shift 2 ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; ENV_FILE=$2; ENV_FILE_SET=1; shift 2 ;;
    --service) [ $# -ge 2 ] || usage_error "--service needs a name"; SERVICE=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    --label) [ $# -ge 2 ] || usage_error "--label needs a value"; KIND=$2; shift 2 ;;
    --tag) [ $# -ge 2 ] || usage_error "--tag needs a value"; TAG=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage_error "--keep needs a number"; KEEP=$2; shift 2 ;;
    --age-recipient) [ $# -ge 2 ] || usage_error "--age-recipient needs a key"; RECIPIENTS=$2; shift 2 ;;
    --no-redis) REDIS=0; shift ;;
    --redis-service) [ $# -ge 2 ] || usage_error "--redis-service needs a name"; REDIS_SERVICE=$2; shift 2 ;;
    --redis-url) [ $# -ge 2 ] || usage_error "--redis-url needs a URL"; BACKUP_REDIS_URL=$2; REDIS_URL_SET=1; shift 2 ;;
    --metrics-dir) [ $# -ge 2 ] || usage_error "--metrics-dir needs a directory"; METRICS_DIR=$2; shift 2 ;;
    --no-metrics) METRICS=0; shift ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
[ "$URL_SET" -eq 1 ] || [ -n "$COMPOSE_FILE" ] || usage_error "give --url URL or --compose-file FILE"
[ "$URL_SET" -eq 0 ] || [ -z "$COMPOSE_FILE" ] || usage_error "give --url or --compose-file, not both"
[[ $KEEP =~ ^[0-9]+$ ]] || usage_error "--keep must be a whole number"
# The kind never holds `_` (the field separator of file names); the tag may.
KIND=$(printf '%s' "$KIND" | tr -c 'A-Za-z0-9.-' '-')
TAG=$(printf '%s' "$TAG" | tr -c 'A-Za-z0-9._-' '-')
[ -n "$KIND" ] || usage_error "--label must not be empty"
need_cmd sha256sum
need_cmd python3

load_backup_env
[ -n "${BACKUP_AGE_RECIPIENT+set}" ] || [ -n "$RECIPIENTS" ] || RECIPIENTS=$(envf BACKUP_AGE_RECIPIENT)
resolve_metrics_dir

AGE_ARGS=()
IFS=', ' read -ra _recipients <<<"$RECIPIENTS"
for r in "${_recipients[@]}"; do
  [ -n "$r" ] || continue
  [[ $r =~ ^age1[02-9ac-hj-np-z]{58}$ ]] || die "BACKUP_AGE_RECIPIENT: '$r' is not an age public key (age1... from age-keygen -y)"
  AGE_ARGS+=(--recipient "$r")
done
ENCRYPT=0
if [ ${#AGE_ARGS[@]} -gt 0 ]; then ENCRYPT=1; need_cmd age "install age (apt-get install age)"; fi

# --- how to reach PostgreSQL and Redis --------------------------------------------
if [ -n "$COMPOSE_FILE" ]; then
  [ -f "$COMPOSE_FILE" ] || die "compose file $COMPOSE_FILE not found"
  read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
  DB=$(envf POSTGRES_DB reporter)
  # The compose files require REPORTER_TAG to parse; postgres and redis do
  # not use it, so any value will do here.
  dc() { env "REPORTER_TAG=${REPORTER_TAG:-backup}" "${COMPOSE_CMD[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" "$@"; }
  # Variables in single quotes expand inside the container, from its own env.
  # shellcheck disable=SC2016
  dump() { dc exec -T "$SERVICE" sh -c 'exec pg_dump --format=custom --compress=6 ${1:+--snapshot="$1"} -U "$POSTGRES_USER" -d "$POSTGRES_DB"' sh "$1"; }
  # shellcheck disable=SC2016
  verify() { dc exec -T "$SERVICE" sh -c 'exec pg_restore --list >/dev/null'; }
  # shellcheck disable=SC2016
  sql_session() { dc exec -T "$SERVICE" sh -c 'exec psql -X -Atq -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'; }
  # BGSAVE, wait until LASTSAVE moves past the value it had (waiting first for
  # the next second, LASTSAVE's resolution), check it succeeded, stream the file.
  # shellcheck disable=SC2016
  redis_copy() {
    dc exec -T "$REDIS_SERVICE" sh -c '
      export REDISCLI_AUTH="$REDIS_PASSWORD"
      before=$(redis-cli --no-auth-warning LASTSAVE) || exit 1
      case $before in (""|*[!0-9]*) echo "redis-cli LASTSAVE failed: $before" >&2; exit 1;; esac
      while [ "$(date +%s)" -le "$before" ]; do sleep 1; done
      out=$(redis-cli --no-auth-warning BGSAVE SCHEDULE) || exit 1
      case $out in (*ERR*) echo "BGSAVE: $out" >&2; exit 1;; esac
      i=0
      while [ "$(redis-cli --no-auth-warning LASTSAVE)" = "$before" ]; do
        i=$((i + 1)); [ "$i" -le "$1" ] || { echo "BGSAVE did not finish within $1 s" >&2; exit 1; }
        sleep 1
      done
      redis-cli --no-auth-warning INFO persistence | grep -q "^rdb_last_bgsave_status:ok" \
        || { echo "BGSAVE failed (rdb_last_bgsave_status)" >&2; exit 1; }
      dir=$(redis-cli --no-auth-warning CONFIG GET dir | sed -n 2p)
      file=$(redis-cli --no-auth-warning CONFIG GET dbfilename | sed -n 2p)
      exec cat "${dir:-/data}/${file:-dump.rdb}"' sh "${BACKUP_REDIS_TIMEOUT:-600}"
  }
  REDIS_FROM="compose service $REDIS_SERVICE"
else
  need_cmd pg_dump "install postgresql-client"
  need_cmd pg_restore "install postgresql-client"
  need_cmd psql "install postgresql-client"
  export BACKUP_DATABASE_URL
  export_pg_env_from_url BACKUP_DATABASE_URL || die "--url is not a postgres:// URL"
  DB=$PGDATABASE
  dump() { pg_dump --format=custom --compress=6 ${1:+--snapshot="$1"}; }
  verify() { pg_restore --list >/dev/null; }
  sql_session() { psql -X -Atq -v ON_ERROR_STOP=1; }
  if [ "$REDIS" -eq 1 ] && [ "$REDIS_URL_SET" -eq 0 ]; then
    log "no --redis-url (BACKUP_REDIS_URL): Redis is not copied"
    REDIS=0
  fi
  if [ "$REDIS" -eq 1 ]; then
    need_cmd redis-cli "install redis-tools"
    export BACKUP_REDIS_URL
    mapfile -t RF < <(url_fields BACKUP_REDIS_URL) || true
    { [ ${#RF[@]} -ge 4 ] && [[ ${RF[0]} =~ ^rediss?$ ]]; } || die "--redis-url is not a redis:// URL"
    REDIS_ARGS=(-h "${RF[3]}" -p "${RF[4]:-6379}")
    [ "${RF[0]}" = redis ] || REDIS_ARGS+=(--tls)
    [ -z "${RF[1]}" ] || REDIS_ARGS+=(--user "${RF[1]}")
    # redis-cli --rdb - writes the RDB to stdout; the password goes in REDISCLI_AUTH.
    redis_copy() {
      if [ -n "${RF[2]}" ]; then export REDISCLI_AUTH=${RF[2]}; else unset REDISCLI_AUTH; fi
      redis-cli --no-auth-warning "${REDIS_ARGS[@]}" --rdb - 2>"$TMP/redis.err"
    }
    REDIS_FROM="Redis at ${RF[3]}:${RF[4]:-6379}"
  fi
fi
[[ $DB =~ ^[A-Za-z0-9_.-]+$ ]] || die "database name has characters unsafe in a file name"

umask 077
mkdir -p "$DIR"
# A backup directory inside the repository must never be committed.
case "$(cd "$DIR" && pwd)/" in
  "$ROOT"/*) [ -f "$DIR/.gitignore" ] || printf '*\n' >"$DIR/.gitignore" ;;
esac
stamp=$(utc_stamp)
prefix=$KIND${TAG:+-$TAG}
base="${prefix}_${DB}_${stamp}"
n=1
while compgen -G "$DIR/$base.*" >/dev/null; do n=$((n + 1)); base="${prefix}_${DB}_${stamp}-$n"; done
ext=''
[ "$ENCRYPT" -eq 0 ] || ext=.age
dump_name="$base.dump$ext" rdb_name="$base.rdb$ext" manifest_name="$base.manifest.json"
TMP=$(mktemp -d)
SQL_PID=''
cleanup() {
  [ -z "$SQL_PID" ] || kill "$SQL_PID" 2>/dev/null || true
  rm -rf "$TMP"
  rm -f "$DIR/$dump_name.partial" "$DIR/$rdb_name.partial"
}
trap cleanup EXIT

# store MAGIC NAME [VERIFY]: stdin -> DIR/NAME.partial, encrypted on the way
# when asked; the plaintext must start with MAGIC; VERIFY (a function reading
# the plaintext on stdin) must succeed. Only then is the file renamed to NAME.
store() { # magic name [verify-function]
  local magic=$1 name=$2 check=${3:-} out="$DIR/$2.partial" vpid='' rc
  local -a st
  mkfifo "$TMP/head" "$TMP/verify"
  head -c "${#magic}" <"$TMP/head" >"$TMP/head.bytes" &
  local hpid=$!
  if [ -n "$check" ]; then
    "$check" <"$TMP/verify" 2>"$TMP/verify.err" &
    vpid=$!
  else
    cat <"$TMP/verify" >/dev/null &
    vpid=$!
  fi
  if [ "$ENCRYPT" -eq 1 ]; then
    tee -p "$TMP/head" "$TMP/verify" | age --encrypt "${AGE_ARGS[@]}" >"$out"
  else
    tee -p "$TMP/head" "$TMP/verify" >"$out"
  fi
  st=("${PIPESTATUS[@]}")
  wait "$hpid" || true
  rc=0
  wait "$vpid" || rc=$?
  rm -f "$TMP/head" "$TMP/verify"
  if [ "${st[0]}" -ne 0 ] || [ "${st[1]:-0}" -ne 0 ]; then warn "writing $name failed"; return 1; fi
  [ -s "$out" ] || { warn "$name: nothing was written"; return 1; }
  [ "$(cat "$TMP/head.bytes")" = "$magic" ] || { warn "$name: the data does not start with $magic"; return 1; }
  if [ "$rc" -ne 0 ]; then
    sed 's/^/    /' "$TMP/verify.err" >&2
    warn "$name does not read back"
    return 1
  fi
  mv "$out" "$DIR/$name"
  (cd "$DIR" && sha256sum "$name" >"$name.sha256")
}

# --- 1. a snapshot for pg_dump and the table checksums ---------------------------
# One psql session opens a REPEATABLE READ transaction and exports its
# snapshot; pg_dump reads that snapshot (--snapshot), and the same session
# computes the row counts and checksums in it, so both see the same rows. The
# transaction stays open until pg_dump is done.
mkfifo "$TMP/sql.in"
: >"$TMP/sql.out"
: >"$TMP/sql.err"
sql_session >"$TMP/sql.out" 2>"$TMP/sql.err" <"$TMP/sql.in" &
SQL_PID=$!
exec {SQLW}<>"$TMP/sql.in"
printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' \
  "SELECT 'snapshot:' || pg_export_snapshot();" >&"$SQLW"
snapshot=''
for _ in $(seq 1 600); do
  snapshot=$(sed -n 's/^snapshot://p' "$TMP/sql.out" | head -n 1) || snapshot=''
  [ -z "$snapshot" ] || break
  kill -0 "$SQL_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$snapshot" ]; then
  { backup_stats_sql; printf '%s\n' "SELECT 'stats:end';"; } >&"$SQLW"
else
  warn "could not open a snapshot session ($(tr '\n' ' ' <"$TMP/sql.err")): pg_dump uses its own snapshot and the manifest has no table checksums"
fi

# --- 2. the dump ---------------------------------------------------------------------
log "dumping database $DB to $DIR/$dump_name"
if ! dump "$snapshot" | store PGDMP "$dump_name" verify; then
  die "pg_dump failed or its output does not read back (pg_restore --list); no backup written"
fi
tables_ok=0
if [ -n "$snapshot" ]; then
  printf '%s\n' 'COMMIT;' '\q' >&"$SQLW"
  exec {SQLW}>&-
  wait "$SQL_PID" && rc=0 || rc=$?
  SQL_PID=''
  if [ "$rc" -eq 0 ] && grep -qx 'stats:end' "$TMP/sql.out"; then
    tables_ok=1
  else
    rm -f "$DIR/$dump_name" "$DIR/$dump_name.sha256"
    die "computing the table checksums failed: $(tr '\n' ' ' <"$TMP/sql.err"); no backup written"
  fi
else
  exec {SQLW}>&-
  wait "$SQL_PID" || true
  SQL_PID=''
fi
log "database dump ok: $(du -h "$DIR/$dump_name" | cut -f1)${ext:+, encrypted}"

# --- 3. Redis -------------------------------------------------------------------------
redis_done=0
if [ "$REDIS" -eq 1 ]; then
  log "copying the Redis data from $REDIS_FROM to $DIR/$rdb_name"
  if redis_copy | store REDIS "$rdb_name"; then
    redis_done=1
    log "Redis copy ok: $(du -h "$DIR/$rdb_name" | cut -f1)"
  else
    [ ! -s "$TMP/redis.err" ] || sed 's/^/    /' "$TMP/redis.err" >&2
    rm -f "$DIR/$dump_name" "$DIR/$dump_name.sha256"
    die "copying Redis failed; no backup written (--no-redis skips Redis)"
  fi
fi

# --- 4. the manifest --------------------------------------------------------------------
[ "$tables_ok" -eq 1 ] || : >"$TMP/sql.out"
BK_DIR=$DIR BK_KIND=$KIND BK_TAG=$TAG BK_DB=$DB BK_DUMP=$dump_name BK_ENC=$ENCRYPT \
  BK_RDB=$([ "$redis_done" -eq 1 ] && printf '%s' "$rdb_name") BK_TABLES_OK=$tables_ok BK_SNAPSHOT=$snapshot \
  python3 - "$TMP/sql.out" >"$DIR/$manifest_name.partial" <<'PY'
import datetime, hashlib, json, os, sys
e = os.environ
def describe(name):
    path = os.path.join(e["BK_DIR"], name)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"file": name, "size": os.path.getsize(path), "sha256": h.hexdigest(),
            "encrypted": e["BK_ENC"] == "1"}
tables = None
if e["BK_TABLES_OK"] == "1":
    tables = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        parts = line.rstrip("\n").rsplit("|", 2)
        if len(parts) == 3 and parts[1].isdigit():
            tables[parts[0]] = {"rows": int(parts[1]), "checksum": parts[2]}
manifest = {
    "format": 1,
    "label": e["BK_KIND"],
    "tag": e["BK_TAG"] or None,
    "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "database": e["BK_DB"],
    "snapshot": e["BK_SNAPSHOT"] or None,
    "checksum_method": "sum of the first 64 bits of md5(row::text) per table, "
                       "TimeZone UTC, DateStyle ISO, extra_float_digits 3, bytea hex",
    "tables": tables,
    "dump": describe(e["BK_DUMP"]),
    "redis": describe(e["BK_RDB"]) if e["BK_RDB"] else None,
}
json.dump(manifest, sys.stdout, indent=2, sort_keys=False)
sys.stdout.write("\n")
PY
mv "$DIR/$manifest_name.partial" "$DIR/$manifest_name"
if [ "$tables_ok" -eq 1 ]; then
  log "manifest $manifest_name: $(grep -c '"rows"' "$DIR/$manifest_name") tables"
fi

# --- 5. metrics -----------------------------------------------------------------------------
if [ "$METRICS" -eq 1 ]; then
  size=$(stat -c %s "$DIR/$dump_name")
  write_prom "$METRICS_DIR/reporter_backup_${KIND}.prom" "\
# HELP reporter_backup_last_success_timestamp_seconds Unix time of the last successful backup of this kind (scripts/backup-db.sh).
# TYPE reporter_backup_last_success_timestamp_seconds gauge
reporter_backup_last_success_timestamp_seconds{label=\"$KIND\"} $(date +%s)
# HELP reporter_backup_last_size_bytes Size of the database dump of the last successful backup of this kind.
# TYPE reporter_backup_last_size_bytes gauge
reporter_backup_last_size_bytes{label=\"$KIND\"} $size" \
    || warn "could not write the metrics file in $METRICS_DIR"
fi

# --- 6. retention: per kind -------------------------------------------------------------------
# A backup's kind is the label in its manifest. Older backups without a
# manifest: the label of the file name, where pre-deploy-<tag> counts as
# pre-deploy. Only this kind of this database is pruned.
if [ "$KEEP" -gt 0 ]; then
  mapfile -t old < <(python3 - "$DIR" "$DB" "$KIND" "$KEEP" <<'PY'
import json, os, re, sys
d, db, kind, keep = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pat = re.compile(r"^(?P<label>.+)_" + re.escape(db) + r"_(?P<stamp>\d{8}T\d{6}Z(-\d+)?)\.dump(\.age)?$")
found = []
for name in os.listdir(d):
    m = pat.match(name)
    if not m:
        continue
    base = name[: name.index(".dump")]
    k = None
    try:
        with open(os.path.join(d, base + ".manifest.json"), encoding="utf-8") as f:
            man = json.load(f)
        if man.get("database") == db:
            k = man.get("label")
    except (OSError, ValueError):
        label = m.group("label")
        k = "pre-deploy" if label.startswith("pre-deploy-") else label
    if k == kind:
        found.append((os.path.getmtime(os.path.join(d, name)), m.group("stamp"), base))
found.sort(reverse=True)
for _, _, base in found[keep:]:
    print(base)
PY
  )
  for b in "${old[@]}"; do
    for s in "${BACKUP_SET_SUFFIXES[@]}"; do rm -f -- "$DIR/$b$s"; done
    log "pruned old $KIND backup $b"
  done
fi
printf '%s\n' "$DIR/$dump_name"
