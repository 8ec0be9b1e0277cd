#!/usr/bin/env bash
# scripts/restore-drill.sh and the Redis and encryption sides of backup-db.sh /
# restore-db.sh, on the local PostgreSQL and a private redis-server:
#   - a scratch database migrated with reporterctl (plus a table of awkward
#     types) and a Redis with keys are backed up; the drill restores the
#     newest backup into reporter_drill_<time>, matches every table's row
#     count and checksum, checks the RDB, drops the scratch database and
#     writes its metric;
#   - the RDB copy loads into another redis-server with the keys;
#   - a tampered manifest, row count or checksum file fails the drill;
#   - encrypted backups (age): no plaintext on disk, the drill and restore-db.sh
#     decrypt with the identity, a wrong or missing identity fails clearly.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

if ! command -v pg_dump >/dev/null 2>&1 || ! pg_up; then
  not_ok "PostgreSQL is needed at $PG_ADMIN_URL (with pg_dump/pg_restore/psql)"
  finish
fi
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  not_ok "redis-server and redis-cli are needed (apt-get install redis-server)"
  finish
fi

ID=$(rand_id)
PREFIX="rdt_drill_${ID}"
SRC="${PREFIX}_src"
WORK=$(mktemp -d)
REDIS_PIDS=()
cleanup() {
  local p
  for p in "${REDIS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  drop_dbs_like "$PREFIX"
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
BACKUP="$ROOT/scripts/backup-db.sh"
RESTORE="$ROOT/scripts/restore-db.sh"
DRILL="$ROOT/scripts/restore-drill.sh"
unset BACKUP_DIR BACKUP_AGE_RECIPIENT BACKUP_AGE_IDENTITY BACKUP_METRICS_DIR BACKUP_REDIS_URL PROD_DB_NAME
drill_dbs() { psql "$PG_ADMIN_URL" -Atqc "SELECT count(*) FROM pg_database WHERE datname LIKE 'reporter_drill_%' AND datname NOT IN (SELECT unnest(string_to_array('$(cat "$WORK/drill_before")', ',')))"; }

# A private redis-server in DIR on a free port (no disk writes of its own;
# repl-diskless-sync-delay 0 so redis-cli --rdb does not wait 5 s). Prints the port.
start_redis() { # dir [extra args...]
  local dir=$1 port; shift
  port=$(free_port)
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --repl-diskless-sync-delay 0 --logfile "$dir/redis.log" "$@" >/dev/null 2>&1 &
  REDIS_PIDS+=($!)
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping 2>/dev/null | grep -qE 'PONG|NOAUTH' && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}

# --- the data ---------------------------------------------------------------------------
create_db "$SRC"
migrated=0
if ensure_bins reporterctl; then
  DATABASE_URL=$(db_url "$SRC") REDIS_URL=$REDIS_TEST_URL REPORTER_CREDENTIALS_KEY=$(head -c 32 /dev/urandom | base64) \
    "$BIN_DIR/reporterctl" migrate >"$WORK/migrate.out" 2>&1 && migrated=1
  [ "$migrated" -eq 1 ] || sed 's/^/#   /' "$WORK/migrate.out" | tail -n 5
fi
if [ "$migrated" -eq 1 ]; then
  ok "the scratch database is migrated with reporterctl migrate"
else
  skip "reporterctl could not migrate: the schema comes from the migrations' up.sql with psql"
  for m in "$ROOT"/migrations/*/up.sql; do psql "$(db_url "$SRC")" -X -q -v ON_ERROR_STOP=1 -f "$m" >/dev/null; done
fi
psql "$(db_url "$SRC")" -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE drill_extra (
  id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ, d DATE, f DOUBLE PRECISION, r REAL, n NUMERIC,
  b BYTEA, j JSONB, a TEXT[], iv INTERVAL, t TEXT
);
INSERT INTO drill_extra (at, d, f, r, n, b, j, a, iv, t)
SELECT '2026-03-29 01:30:00+01'::timestamptz + g * interval '37 minutes', DATE '2026-01-01' + g,
       g / 3.0, g / 7.0, g * 1.0001, decode(md5(g::text), 'hex'), jsonb_build_object('g', g, 'x', ARRAY[g, -g]),
       ARRAY['ñ', 'a|b', NULL], g * interval '1 day 3 hours', repeat('x', g % 50) || E'\t|\n'
  FROM generate_series(1, 300) g;
CREATE TABLE "Drill Mixed|Case" (k TEXT);
INSERT INTO "Drill Mixed|Case" VALUES ('one'), ('two');
SQL
tables=$(psql "$(db_url "$SRC")" -Atqc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")

RPORT=$(start_redis "$WORK/redis-src") || { not_ok "a private redis-server starts"; finish; }
redis-cli -p "$RPORT" SET drill:string "hello $ID" >/dev/null
redis-cli -p "$RPORT" HSET drill:hash a 1 b 2 >/dev/null
redis-cli -p "$RPORT" RPUSH drill:list x y z >/dev/null
redis-cli -p "$RPORT" SET drill:ttl soon EX 86400 >/dev/null
REDIS_URL_SRC="redis://127.0.0.1:$RPORT/0"

# Drill databases that exist before (other runs); ours must all be gone after.
psql "$PG_ADMIN_URL" -Atqc "SELECT coalesce(string_agg(datname, ','), '') FROM pg_database WHERE datname LIKE 'reporter_drill_%'" >"$WORK/drill_before"

# --- 1. plain backup with Redis, then the drill ---------------------------------------------
B="$WORK/plain"
BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$B" --label nightly --redis-url "$REDIS_URL_SRC" \
  >"$WORK/b1.out" 2>"$WORK/b1.err" && rc=0 || rc=$?
dump=$(tail -n 1 "$WORK/b1.out")
base=${dump%.dump}
check "backup-db.sh with --redis-url succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/b1.err"
check "the Redis copy sits next to the dump: <base>.rdb with its .sha256" \
  bash -c "cd '$B' && sha256sum -c --status '$(basename "$base").rdb.sha256'"
check "the Redis copy is an RDB file" test "$(head -c 5 "$base.rdb")" = REDIS
check "the Redis copy is mode 600" test "$(stat -c %a "$base.rdb")" = 600
check "the manifest lists the Redis copy with its size and sha256" python3 - "$base.manifest.json" "$base.rdb" <<'PY'
import hashlib, json, os, sys
m = json.load(open(sys.argv[1]))
r = m["redis"]
assert r["file"] == os.path.basename(sys.argv[2]) and r["size"] == os.path.getsize(sys.argv[2])
assert r["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
PY
check "the backup log names no password" lacks postgres:postgres "$WORK/b1.err"

# A newer backup of another kind: --label picks the newest nightly anyway.
sleep 1
BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$B" --label manual --no-metrics >/dev/null 2>&1
"$DRILL" --url "$PG_ADMIN_URL" --dir "$B" --label nightly --metrics-dir "$WORK/metrics" >"$WORK/d1.out" 2>&1 && rc=0 || rc=$?
check "the drill passes on a good backup (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/d1.out"
check "it drilled the newest nightly, not the newer manual backup" grep -q "DRILL PASSED: $(basename "$dump") " "$WORK/d1.out"
check "it restored into reporter_drill_<time>" grep -qE 'restored into reporter_drill_[0-9]{14}$' "$WORK/d1.out"
check "its table lists every table ($tables) as ok" \
  test "$(grep -cE '^[^ ]+\.[^ ]+ .* ok$|^public\.Drill Mixed\|Case .* ok$' "$WORK/d1.out")" = "$tables"
check "... including the table of awkward types, 300 rows" grep -qE '^public\.drill_extra +300 +300 +same +ok$' "$WORK/d1.out"
check "it checked the Redis copy with redis-check-rdb (4 keys)" grep -q 'redis-check-rdb passed (4 keys read)' "$WORK/d1.out"
check "the scratch database is dropped afterwards" test "$(drill_dbs)" = 0
prom="$WORK/metrics/reporter_restore_drill.prom"
ts=$(sed -n 's/^reporter_backup_drill_last_success_timestamp_seconds \([0-9]*\)$/\1/p' "$prom" 2>/dev/null)
check "it wrote reporter_backup_drill_last_success_timestamp_seconds (${ts:-none})" \
  test -n "$ts" -a "$(($(date +%s) - ${ts:-0}))" -lt 600
"$DRILL" --url "$PG_ADMIN_URL" --dir "$B" --metrics-dir "$WORK/metrics" --keep-db >"$WORK/d1k.out" 2>&1 && rc=0 || rc=$?
kept=$(grep -oE 'reporter_drill_[0-9]{14}' "$WORK/d1k.out" | head -n 1)
check "without --label the newest backup of any kind is drilled; --keep-db keeps the scratch database" \
  test "$rc:$(grep -c 'DRILL PASSED: manual_' "$WORK/d1k.out"):$(drill_dbs)" = 0:1:1
[ -z "$kept" ] || drop_db "$kept"

# --- 1b. writes during the backup ------------------------------------------------------------------
# The manifest is computed in pg_dump's snapshot, so rows committed while the
# backup runs are in neither, and the drill still matches.
psql "$(db_url "$SRC")" -X -q -c "CREATE TABLE drill_busy (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ DEFAULT clock_timestamp())"
psql "$(db_url "$SRC")" -X -q -c "SET statement_timeout = '120s'" \
  -c "DO \$\$ BEGIN LOOP INSERT INTO drill_busy DEFAULT VALUES; COMMIT; PERFORM pg_sleep(0.002); END LOOP; END \$\$" \
  >/dev/null 2>&1 &
WRITER=$!
busy() { psql "$(db_url "$SRC")" -Atqc 'SELECT count(*) FROM drill_busy'; }
for _ in $(seq 1 50); do [ "$(busy)" -gt 20 ] && break; sleep 0.1; done
before=$(busy)
BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$WORK/busy" --label nightly --no-metrics >/dev/null 2>"$WORK/busy.err" && rc=0 || rc=$?
after=$(busy)
kill "$WRITER" 2>/dev/null || true
wait "$WRITER" 2>/dev/null || true
psql "$PG_ADMIN_URL" -Atqc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$SRC' AND query LIKE 'DO %'" >/dev/null
check "a backup while rows are being inserted succeeds (exit $rc; $before -> $after rows during it)" \
  test "$rc" -eq 0 -a "$after" -gt "$before"
"$DRILL" --url "$PG_ADMIN_URL" --dir "$WORK/busy" --no-metrics >"$WORK/dbusy.out" 2>&1 && rc=0 || rc=$?
check "the drill of that backup matches its manifest (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || grep -E 'MISMATCH|FAIL' "$WORK/dbusy.out" | sed 's/^/#   /'

# --- 2. the RDB loads into a fresh redis-server ------------------------------------------------
mkdir -p "$WORK/redis-restored"
cp "$base.rdb" "$WORK/redis-restored/dump.rdb"
if P2=$(start_redis "$WORK/redis-restored"); then
  check "a redis-server started on the copy has the string key" test "$(redis-cli -p "$P2" GET drill:string)" = "hello $ID"
  check "... the hash, the list and the key with a TTL" \
    test "$(redis-cli -p "$P2" HGET drill:hash b):$(redis-cli -p "$P2" LRANGE drill:list 0 -1 | tr '\n' ,):$(redis-cli -p "$P2" GET drill:ttl)" = "2:x,y,z,:soon"
  check "... and the TTL survived" test "$(redis-cli -p "$P2" TTL drill:ttl)" -gt 80000
else
  not_ok "a redis-server starts on the RDB copy"
fi

# --- 3. tampering fails the drill -----------------------------------------------------------------
copy_set() { rm -rf "$WORK/t-$1"; mkdir -p "$WORK/t-$1"; cp "$base".* "$WORK/t-$1/"; }
tamper() { # name python-statement-on-m
  copy_set "$1"
  python3 - "$WORK/t-$1/$(basename "$base").manifest.json" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
  "$DRILL" --url "$PG_ADMIN_URL" --dir "$WORK/t-$1" --metrics-dir "$WORK/t-metrics" >"$WORK/t-$1.out" 2>&1
}
tamper rows 'm["tables"]["public.drill_extra"]["rows"] += 1' && rc=0 || rc=$?
check "a row count changed in the manifest fails the drill (exit $rc)" test "$rc" -eq 1
check "... naming the table as a mismatch" grep -qE '^public\.drill_extra +301 +300 .*MISMATCH$' "$WORK/t-rows.out"
check "... with a failed verdict" grep -q '^DRILL FAILED: ' "$WORK/t-rows.out"
tamper sum 'm["tables"]["public.drill_extra"]["checksum"] = "1"' && rc=0 || rc=$?
check "a changed table checksum fails the drill (exit $rc)" test "$rc" -eq 1
check "... as a checksum difference" grep -qE '^public\.drill_extra +300 +300 +DIFFERS +MISMATCH$' "$WORK/t-sum.out"
tamper gone 'm["tables"]["public.vanished"] = {"rows": 1, "checksum": "1"}' && rc=0 || rc=$?
check "a table the restore lacks fails the drill (exit $rc)" test "$rc" -eq 1
tamper sha 'm["dump"]["sha256"] = "0" * 64' && rc=0 || rc=$?
check "a manifest sha256 that does not match the dump fails the drill (exit $rc)" test "$rc" -eq 1
tamper none 'm["tables"] = None' && rc=0 || rc=$?
check "a manifest without table checksums fails the drill (exit $rc)" test "$rc" -eq 1
copy_set rdb
printf 'x' >>"$WORK/t-rdb/$(basename "$base").rdb"
"$DRILL" --url "$PG_ADMIN_URL" --dir "$WORK/t-rdb" --metrics-dir "$WORK/t-metrics" >"$WORK/t-rdb.out" 2>&1 && rc=0 || rc=$?
check "a damaged Redis copy fails the drill (exit $rc)" test "$rc" -eq 1
check "... as a checksum mismatch" grep -q 'Redis copy: checksum mismatch' "$WORK/t-rdb.out"
check "a failed drill writes no success metric" test ! -e "$WORK/t-metrics/reporter_restore_drill.prom"
check "failed drills drop their scratch databases too" test "$(drill_dbs)" = 0
"$DRILL" --url "$PG_ADMIN_URL" --dir "$WORK/empty-dir-$ID" >/dev/null 2>&1 && rc=0 || rc=$?
check "no backup directory: the drill fails (exit $rc)" test "$rc" -eq 1

# --- 3b. compose mode ------------------------------------------------------------------------------
# A fake docker runs `compose ... exec -T <service> sh -c SCRIPT ...` on this
# host, with the env the containers have (POSTGRES_USER/POSTGRES_DB for
# postgres; REDIS_PASSWORD for redis, whose redis-cli reaches a private
# password-protected redis-server): the scripts' in-container commands run for real.
C="$WORK/compose"
mkdir -p "$C/bin" "$C/redisbin"
REDIS_PW="pw-$ID-$(rand_id)"
if CPORT=$(start_redis "$C/redis" --requirepass "$REDIS_PW"); then
  REDISCLI_AUTH=$REDIS_PW redis-cli -p "$CPORT" --no-auth-warning SET drill:compose "via compose $ID" >/dev/null
  printf '#!/bin/sh\nexec %s -p %s "$@"\n' "$(command -v redis-cli)" "$CPORT" >"$C/redisbin/redis-cli"
  cat >"$C/bin/docker" <<'FAKE'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_DOCKER_LOG"
[ "${1:-}" = compose ] || exit 1
while [ $# -gt 0 ] && [ "$1" != exec ]; do shift; done
shift
[ "${1:-}" = -T ] && shift
svc=$1; shift
case $svc in
  postgres) export POSTGRES_USER=postgres POSTGRES_DB=$FAKE_PG_DB PGHOST=127.0.0.1 PGPORT=5432 PGPASSWORD=postgres ;;
  redis) export REDIS_PASSWORD=$FAKE_REDIS_PASSWORD PATH="$FAKE_REDIS_BIN:$PATH" ;;
  *) exit 1 ;;
esac
exec "$@"
FAKE
  chmod +x "$C/bin/docker" "$C/redisbin/redis-cli"
  printf 'POSTGRES_DB=%s\nBACKUP_DIR=%s\nBACKUP_METRICS_DIR=%s\n' "$SRC" "$C/backups" "$C/metrics" >"$C/test.env"
  cenv() { env PATH="$C/bin:$PATH" COMPOSE='docker compose' FAKE_DOCKER_LOG="$C/docker.log" FAKE_PG_DB="$SRC" \
    FAKE_REDIS_PASSWORD="$REDIS_PW" FAKE_REDIS_BIN="$C/redisbin" "$@"; }
  cenv "$BACKUP" --compose-file "$ROOT/compose.prod.yml" --env-file "$C/test.env" --label nightly --keep 3 \
    >"$C/b.out" 2>"$C/b.err" && rc=0 || rc=$?
  check "compose mode: backup-db.sh succeeds (exit $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$C/b.err"
  cb=$(tail -n 1 "$C/b.out"); cb=${cb%.dump}
  check "compose mode: BACKUP_DIR and POSTGRES_DB come from the env file" \
    test -f "$C/backups/$(basename "$cb").dump" -a "${cb#"$C/backups/nightly_${SRC}_"}" != "$cb"
  check "compose mode: Redis was copied through BGSAVE and the container's dump.rdb" \
    test "$(head -c 5 "$cb.rdb" 2>/dev/null)" = REDIS
  ntables=$(psql "$(db_url "$SRC")" -Atqc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  check "compose mode: the manifest has every table ($ntables)" \
    test "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["tables"]))' "$cb.manifest.json")" = "$ntables"
  check "compose mode: the metrics go to BACKUP_METRICS_DIR of the env file" test -s "$C/metrics/reporter_backup_nightly.prom"
  check "compose mode: no password in any docker command line" lacks "$REDIS_PW" "$C/docker.log"
  cenv "$DRILL" --compose-file "$ROOT/compose.prod.yml" --env-file "$C/test.env" >"$C/d.out" 2>&1 && rc=0 || rc=$?
  check "compose mode: the drill passes (exit $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$C/d.out"
  check "compose mode: ... with the Redis copy (the compose key among 1 keys)" grep -q 'redis-check-rdb passed (1 keys read)' "$C/d.out"
  check "compose mode: ... and its metric in BACKUP_METRICS_DIR" test -s "$C/metrics/reporter_restore_drill.prom"
  check "compose mode: no scratch database is left" test "$(drill_dbs)" = 0
else
  not_ok "a private redis-server with a password starts"
fi

# --- 4. encryption (age) --------------------------------------------------------------------------
if ! ensure_tool age age || ! command -v age-keygen >/dev/null 2>&1; then
  not_ok "age is not installed and apt-get could not install it"
  finish
fi
age-keygen -o "$WORK/key.txt" 2>/dev/null
age-keygen -o "$WORK/wrong.txt" 2>/dev/null
RECIPIENT=$(age-keygen -y "$WORK/key.txt")
E="$WORK/enc"
BACKUP_AGE_RECIPIENT=$RECIPIENT BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$E" --label nightly \
  --redis-url "$REDIS_URL_SRC" >"$WORK/e.out" 2>"$WORK/e.err" && rc=0 || rc=$?
edump=$(tail -n 1 "$WORK/e.out")
ebase=${edump%.dump.age}
check "an encrypted backup succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/e.err"
check "it is named .dump.age and .rdb.age" test -f "$ebase.dump.age" -a -f "$ebase.rdb.age"
check "both are age files" test "$(head -c 21 "$ebase.dump.age"):$(head -c 21 "$ebase.rdb.age")" = "age-encryption.org/v1:age-encryption.org/v1"
check "no plaintext file is on disk: no .dump, .rdb or .partial" \
  test "$(find "$E" -type f \( -name '*.dump' -o -name '*.rdb' -o -name '*.partial' \) | wc -l)" = 0
plain=0
for f in "$E"/*; do
  [ -f "$f" ] || continue
  case "$(head -c 5 "$f")" in PGDMP | REDIS) plain=1 ;; esac
  grep -qa "hello $ID" "$f" && plain=1
done
check "no file in the backup directory holds the dump's or the RDB's plaintext" test "$plain" -eq 0
check "the sha256 files cover the encrypted bytes" \
  bash -c "cd '$E' && sha256sum -c --status '$(basename "$ebase").dump.age.sha256' && sha256sum -c --status '$(basename "$ebase").rdb.age.sha256'"
check "the manifest says encrypted" python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); assert m["dump"]["encrypted"] and m["redis"]["encrypted"]' "$ebase.manifest.json"
BACKUP_AGE_RECIPIENT=not-a-key BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$WORK/badkey" >/dev/null 2>"$WORK/badkey.err" && rc=0 || rc=$?
check "a BACKUP_AGE_RECIPIENT that is not an age key is refused (exit $rc)" test "$rc" -eq 1
check "... before anything is written" test ! -e "$WORK/badkey"

"$DRILL" --url "$PG_ADMIN_URL" --dir "$E" --identity "$WORK/key.txt" --metrics-dir "$WORK/metrics" >"$WORK/de.out" 2>&1 && rc=0 || rc=$?
check "the drill decrypts with --identity and passes (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/de.out"
check "... the Redis copy too" grep -q 'redis-check-rdb passed (4 keys read)' "$WORK/de.out"
BACKUP_AGE_IDENTITY="$WORK/key.txt" "$DRILL" --url "$PG_ADMIN_URL" --dir "$E" --no-metrics >/dev/null 2>&1 && rc=0 || rc=$?
check "BACKUP_AGE_IDENTITY works as --identity (exit $rc)" test "$rc" -eq 0
"$DRILL" --url "$PG_ADMIN_URL" --dir "$E" --no-metrics >"$WORK/dn.out" 2>&1 && rc=0 || rc=$?
check "without an identity the drill fails (exit $rc) and says why" \
  test "$rc:$(grep -c 'encrypted: give the age identity file' "$WORK/dn.out")" = 1:1
"$DRILL" --url "$PG_ADMIN_URL" --dir "$E" --identity "$WORK/wrong.txt" --no-metrics >"$WORK/dw.out" 2>&1 && rc=0 || rc=$?
check "with the wrong identity the drill fails (exit $rc)" test "$rc" -eq 1
check "... saying it cannot decrypt with that identity" grep -q "cannot decrypt .* with the identity $WORK/wrong.txt" "$WORK/dw.out"
check "no drill left a scratch database" test "$(drill_dbs)" = 0

"$RESTORE" "$ebase.dump.age" --target-db "${PREFIX}_dec" --url "$PG_ADMIN_URL" --identity "$WORK/key.txt" >"$WORK/re.out" 2>&1 && rc=0 || rc=$?
check "restore-db.sh restores an encrypted backup with --identity (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/re.out"
rows() { psql "$(db_url "$1")" -X -Atqc '\copy (SELECT * FROM drill_extra ORDER BY id) TO STDOUT' | md5sum; }
check "... with the same rows" test "$(rows "${PREFIX}_dec")" = "$(rows "$SRC")"
"$RESTORE" "$ebase.dump.age" --target-db "${PREFIX}_wrong" --url "$PG_ADMIN_URL" --identity "$WORK/wrong.txt" >"$WORK/rw.out" 2>&1 && rc=0 || rc=$?
check "restore-db.sh with the wrong identity fails (exit $rc)" test "$rc" -eq 1
check "... clearly" grep -q 'cannot decrypt' "$WORK/rw.out"
check "... having created nothing" test "$(psql "$PG_ADMIN_URL" -Atqc "SELECT count(*) FROM pg_database WHERE datname LIKE '${PREFIX}_wrong%'")" = 0
"$RESTORE" "$ebase.dump.age" --target-db "${PREFIX}_noid" --url "$PG_ADMIN_URL" >"$WORK/rn.out" 2>&1 && rc=0 || rc=$?
check "restore-db.sh without an identity refuses an encrypted backup (exit $rc)" \
  test "$rc:$(grep -c 'encrypted: give the age identity file' "$WORK/rn.out")" = 1:1

mkdir -p "$WORK/redis-dec"
age --decrypt --identity "$WORK/key.txt" -o "$WORK/redis-dec/dump.rdb" "$ebase.rdb.age"
if P3=$(start_redis "$WORK/redis-dec"); then
  check "the decrypted RDB loads into a redis-server with the keys" test "$(redis-cli -p "$P3" GET drill:string)" = "hello $ID"
else
  not_ok "a redis-server starts on the decrypted RDB"
fi

finish
