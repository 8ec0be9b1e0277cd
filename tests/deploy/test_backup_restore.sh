#!/usr/bin/env bash
# backup-db.sh + restore-db.sh on the local PostgreSQL: a scratch database
# with data is backed up, restored into another scratch database and compared
# row by row; checksums are enforced; the production-named database is not
# overwritten without --force (and is kept, renamed, when it is); retention is
# per kind (--label) and never crosses kinds; the manifest and the metrics file.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

if ! command -v pg_dump >/dev/null 2>&1 || ! pg_up; then
  not_ok "PostgreSQL is needed at $PG_ADMIN_URL (with pg_dump/pg_restore/psql)"
  finish
fi

ID=$(rand_id)
PREFIX="rdt_bk_${ID}"
SRC="${PREFIX}_src" DST="${PREFIX}_dst" PROD="${PREFIX}_prod"
WORK=$(mktemp -d)
cleanup() { drop_dbs_like "$PREFIX"; rm -rf "$WORK"; }
trap cleanup EXIT
BACKUP="$ROOT/scripts/backup-db.sh"
RESTORE="$ROOT/scripts/restore-db.sh"
# Row data of every table, in a stable order, to compare two databases.
dump_rows() {
  psql "$(db_url "$1")" -X -Atq <<'SQL'
\copy (SELECT id, name, amount, tags, note, created_at FROM orders ORDER BY id) TO STDOUT
\copy (SELECT k, v FROM settings ORDER BY k) TO STDOUT
SELECT 'sequence ' || last_value || ' ' || is_called FROM orders_id_seq;
SQL
}
db_exists() { [ "$(psql "$PG_ADMIN_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }
db_absent() { ! db_exists "$1"; }
rows_equal() { diff <(dump_rows "$1") <(dump_rows "$2") >/dev/null; }
sha_verifies() { (cd "$(dirname "$1")" && sha256sum -c --status "$(basename "$1").sha256"); }

create_db "$SRC"
psql "$(db_url "$SRC")" -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (
  id BIGSERIAL PRIMARY KEY, name TEXT, amount NUMERIC(12,2), tags TEXT[], note JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT '2026-01-02 03:04:05+00'
);
CREATE INDEX orders_name_idx ON orders (name);
CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT NOT NULL);
INSERT INTO orders (name, amount, tags, note) VALUES
  ('ñandú', 10.50, '{a,b}', '{"x": 1}'), (NULL, NULL, NULL, NULL),
  ('quote''s "and" tab	here', -3.00, '{}', '[1, 2]');
INSERT INTO orders (name, amount) SELECT 'bulk-' || g, g FROM generate_series(1, 500) g;
INSERT INTO settings VALUES ('reporter_hour_start', '6'), ('empty', '');
SQL

# --- backup -----------------------------------------------------------------------
out=$(BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$WORK/backups" --label test 2>"$WORK/backup.err") && rc=0 || rc=$?
file=$(printf '%s\n' "$out" | tail -n 1)
check "backup-db.sh succeeds (exit $rc)" test "$rc" -eq 0
name_re="^test_${SRC}_[0-9]{8}T[0-9]{6}Z\\.dump\$"
check "the backup is named <label>_<db>_<UTC time>.dump" grep -qE "$name_re" <<<"$(basename "$file")"
check "the backup is a compressed custom-format archive" test "$(head -c 5 "$file")" = PGDMP
check "the backup is mode 600" test "$(stat -c %a "$file")" = 600
check "a .sha256 sits next to it and verifies" sha_verifies "$file"
check "the backup log names no password" lacks postgres:postgres "$WORK/backup.err"

# --- restore into a new database ------------------------------------------------------
"$RESTORE" "$file" --target-db "$DST" --url "$PG_ADMIN_URL" >"$WORK/restore.out" 2>&1 && rc=0 || rc=$?
check "restore-db.sh into a new database succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/restore.out"
check "restored rows equal the source rows (orders, settings, sequence)" rows_equal "$SRC" "$DST"
n=$(psql "$(db_url "$DST")" -Atqc 'SELECT count(*) FROM orders')
check "restored 503 orders ($n)" test "$n" = 503
check "the index came back" test "$(psql "$(db_url "$DST")" -Atqc "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_name_idx'")" = 1
check "no staging database is left behind" db_absent "${DST}_restoring"

# --- refusals --------------------------------------------------------------------------
"$RESTORE" "$file" --target-db "$DST" --url "$PG_ADMIN_URL" >"$WORK/again.out" 2>&1 && rc=0 || rc=$?
check "an existing database is not replaced without --force (exit $rc)" test "$rc" -eq 3

cp "$file" "$WORK/tampered.dump"
cp "$file.sha256" "$WORK/tampered.dump.sha256"
sed -i "s/[0-9a-f]\{64\}/$(printf 'x' | sha256sum | cut -d' ' -f1)/" "$WORK/tampered.dump.sha256"
"$RESTORE" "$WORK/tampered.dump" --target-db "${PREFIX}_t1" --url "$PG_ADMIN_URL" >"$WORK/t.out" 2>&1 && rc=0 || rc=$?
check "a checksum mismatch is refused (exit $rc)" test "$rc" -ne 0
check "the mismatch is named" grep -q 'checksum mismatch' "$WORK/t.out"
check "nothing was created on a checksum mismatch" db_absent "${PREFIX}_t1"
check "no staging database either" db_absent "${PREFIX}_t1_restoring"
rm -f "$WORK/tampered.dump.sha256"
"$RESTORE" "$WORK/tampered.dump" --target-db "${PREFIX}_t2" --url "$PG_ADMIN_URL" >"$WORK/t.out" 2>&1 && rc=0 || rc=$?
check "a backup without .sha256 is refused (exit $rc)" test "$rc" -ne 0

# --- the production database -------------------------------------------------------------
create_db "$PROD"
psql "$(db_url "$PROD")" -X -qc "CREATE TABLE live (x int); INSERT INTO live VALUES (42);"
export PROD_DB_NAME="reporter,${PREFIX}_pro*"
"$RESTORE" "$file" --target-db "$PROD" --url "$PG_ADMIN_URL" >"$WORK/p.out" 2>&1 && rc=0 || rc=$?
check "the production-named database is refused without --force (exit $rc)" test "$rc" -eq 3
check "the refusal names PROD_DB_NAME" grep -q 'production database' "$WORK/p.out"
check "the production database is untouched" test "$(psql "$(db_url "$PROD")" -Atqc 'SELECT x FROM live')" = 42
"$RESTORE" "$file" --target-db reporter --url "$PG_ADMIN_URL" >"$WORK/p2.out" 2>&1 && rc=0 || rc=$?
check "the default production name (reporter) is refused without --force (exit $rc)" test "$rc" -eq 3

"$RESTORE" "$file" --target-db "$PROD" --url "$PG_ADMIN_URL" --force >"$WORK/pf.out" 2>&1 && rc=0 || rc=$?
check "with --force the production-named database is restored (exit $rc)" test "$rc" -eq 0
check "it now holds the backup's rows" rows_equal "$SRC" "$PROD"
old=$(psql "$PG_ADMIN_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE '${PROD}_pre_restore_%'")
check "the replaced database is kept as ${PROD}_pre_restore_<time>" test -n "$old"
[ -z "$old" ] || check "the kept database still has its data" test "$(psql "$(db_url "$old")" -Atqc 'SELECT x FROM live')" = 42

# --- retention --------------------------------------------------------------------------------
for _ in 1 2 3; do BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$WORK/keep" --label k --keep 2 >/dev/null 2>&1; done
check "--keep 2 leaves the two newest backups and their checksums" \
  test "$(find "$WORK/keep" -name '*.dump' | wc -l):$(find "$WORK/keep" -name '*.dump.sha256' | wc -l)" = 2:2
check "... and their manifests" test "$(find "$WORK/keep" -name '*.manifest.json' | wc -l)" = 2

# Retention is per kind (--label); the tag (--tag) is only part of the name.
# The regression: two pre-deploy backups with --keep 2 deleted both nightlies.
K="$WORK/kinds"
bk() { BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$K" "$@" >/dev/null 2>"$WORK/bk.err"; }
n_of() { find "$K" -maxdepth 1 -name "$1" | wc -l; }
# A pre-deploy backup made before manifests existed, older than the rest.
legacy="$K/pre-deploy-v0_${SRC}_20200101T000000Z.dump"
mkdir -p "$K" && cp "$file" "$legacy" && cp "$file.sha256" "$legacy.sha256" && touch -d '2020-01-01' "$legacy"
bk --label nightly && bk --label nightly && bk --label manual
bk --label pre-deploy --tag v1 --keep 2 && bk --label pre-deploy --tag v2 --keep 2 && rc=0 || rc=$?
check "pre-deploy backups with --label pre-deploy --tag TAG succeed (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/bk.err"
check "two pre-deploy backups with --keep 2 leave both nightlies" test "$(n_of "nightly_${SRC}_*.dump")" = 2
check "... and the manual one" test "$(n_of "manual_${SRC}_*.dump")" = 1
check "the tag is in the name: pre-deploy-<tag>_<db>_<time>.dump" \
  test "$(n_of "pre-deploy-v1_${SRC}_*.dump"):$(n_of "pre-deploy-v2_${SRC}_*.dump")" = 1:1
check "a legacy pre-deploy-<tag> backup (no manifest) counts as pre-deploy: the oldest, pruned" test ! -e "$legacy"
check "... with its checksum" test ! -e "$legacy.sha256"
bk --label pre-deploy --tag v3 --keep 2
check "a third pre-deploy backup prunes the oldest pre-deploy (v1), whatever its tag" \
  test "$(n_of "pre-deploy-v1_*"):$(n_of "pre-deploy-v2_${SRC}_*.dump"):$(n_of "pre-deploy-v3_${SRC}_*.dump")" = 0:1:1
check "... and still leaves the nightlies and the manual backup" \
  test "$(n_of "nightly_${SRC}_*.dump"):$(n_of "manual_${SRC}_*.dump")" = 2:1
bk --label nightly --keep 1
check "nightly --keep 1 prunes nightlies only" \
  test "$(n_of "nightly_${SRC}_*.dump"):$(n_of "pre-deploy-*.dump"):$(n_of "manual_${SRC}_*.dump")" = 1:2:1
check "no file of a pruned backup is left (dump, .sha256, manifest)" \
  test "$(n_of '*.dump'):$(n_of '*.sha256'):$(n_of '*.manifest.json')" = 4:4:4
check "another database's backups of the same kind are not counted" bash -c "
  cp '$file' '$K/nightly_other_20200101T000000Z.dump' && touch -d 2020-01-01 '$K/nightly_other_20200101T000000Z.dump'
  BACKUP_DATABASE_URL='$(db_url "$SRC")' '$BACKUP' --dir '$K' --label nightly --keep 1 >/dev/null 2>&1
  test -e '$K/nightly_other_20200101T000000Z.dump'"

# --- manifest and metrics ---------------------------------------------------------------------------
manifest="${file%.dump}.manifest.json"
check "a manifest sits next to the backup" test -s "$manifest"
mq() { python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"m": m}))' "$manifest" "$1"; }
check "the manifest names the kind, the database and the time" \
  test "$(mq 'm["label"], m["database"], len(m["created_at"])')" = "('test', '$SRC', 20)"
check "the manifest counts the rows of each table (orders 503, settings 2)" \
  test "$(mq 'm["tables"]["public.orders"]["rows"], m["tables"]["public.settings"]["rows"]')" = "(503, 2)"
check "the manifest has a checksum per table" test "$(mq 'all(t["checksum"].isdigit() for t in m["tables"].values())')" = True
check "the manifest holds the dump's sha256 and size" \
  test "$(mq 'm["dump"]["sha256"], m["dump"]["size"]')" = "('$(sha256sum "$file" | cut -d' ' -f1)', $(stat -c %s "$file"))"
check "without --redis-url nothing of Redis is in the manifest" test "$(mq 'm["redis"]')" = None
pk=$(mq 'm["tables"]["public.orders"]["checksum"]')
psql "$(db_url "$SRC")" -X -qc "UPDATE orders SET amount = amount + 1 WHERE id = 1"
BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$WORK/backups" --label test2 >"$WORK/b2.out" 2>/dev/null
manifest=$(tail -n 1 "$WORK/b2.out"); manifest="${manifest%.dump}.manifest.json"
check "one changed value changes the table's checksum, not its row count" \
  test "$(mq 'm["tables"]["public.orders"]["rows"], m["tables"]["public.orders"]["checksum"] != "'"$pk"'"')" = "(503, True)"

prom="$WORK/backups/metrics/reporter_backup_test.prom"
check "a metrics file is written to BACKUP_DIR/metrics/reporter_backup_<kind>.prom" test -s "$prom"
ts=$(sed -n 's/^reporter_backup_last_success_timestamp_seconds{label="test"} \([0-9]*\)$/\1/p' "$prom")
check "it holds reporter_backup_last_success_timestamp_seconds{label=\"test\"} (now: ${ts:-none})" \
  test -n "$ts" -a "$(( $(date +%s) - ${ts:-0} ))" -lt 600
check "and reporter_backup_last_size_bytes{label=\"test\"} = the dump's size" \
  grep -qx "reporter_backup_last_size_bytes{label=\"test\"} $(stat -c %s "$file")" "$prom"
check "the metrics file is readable by node_exporter (644) and no temp file is left" \
  test "$(stat -c %a "$prom"):$(find "$WORK/backups/metrics" -name '.*' -type f | wc -l)" = 644:0
BACKUP_DATABASE_URL=$(db_url "$SRC") BACKUP_METRICS_DIR="$WORK/textfile" "$BACKUP" --dir "$WORK/backups" --label nightly >/dev/null 2>&1
check "BACKUP_METRICS_DIR moves it" grep -q '^reporter_backup_last_success_timestamp_seconds{label="nightly"} ' "$WORK/textfile/reporter_backup_nightly.prom"
BACKUP_DATABASE_URL=$(db_url "$SRC") "$BACKUP" --dir "$WORK/backups" --label nometrics --no-metrics >/dev/null 2>&1
check "--no-metrics writes none" test ! -e "$WORK/backups/metrics/reporter_backup_nometrics.prom"
BACKUP_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:1/nope "$BACKUP" --dir "$WORK/failed" --label broken >/dev/null 2>&1 && rc=0 || rc=$?
check "a failed backup exits non-zero (exit $rc), leaves no file and writes no metric" \
  test "$rc" -ne 0 -a "$(find "$WORK/failed" -type f ! -name .gitignore 2>/dev/null | wc -l)" = 0

finish
