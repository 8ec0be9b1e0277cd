#!/usr/bin/env bash
# A year of history at scale (issue 14, "Data lifecycle at scale"): generates
# it straight into a database of its own, then prints what it costs and how
# the system copes. Prints numbers; a target missed is a MISS line, never a
# failure (exit non-zero only when the script itself fails).
#
#   scripts/bench-growth.sh [--customers 100] [--days 365] [--export-days 30]
#                           [--duration 10s] [--keep-db]
#   scripts/bench-growth.sh --endpoints-only [--duration 10s]
#
# --endpoints-only re-runs only the endpoints (4) against the database a
# previous --keep-db run left, for measuring a change without regenerating;
# API_BIN=path runs another reporter-api build (before/after comparisons).
#
# What it generates (INSERT ... SELECT generate_series inside PostgreSQL):
#   - N customers, monthly orders 500-10,000 (skewed towards small ones:
#     500 + 9,500 x^2), weights from them, reservations spread over the 18
#     hours 06:00-23:00; one run per hour per day for --days days, each
#     customer's run-user, ~5 % of the export stuck (every 20th order), cut
#     into ranges of 100, the stuck lists and one ledger row ('reported')
#     per stuck order; ~1 % of run-users lose their last range (status
#     'failed', so the run is 'failed' and the console's failed ranges list
#     has rows).
#   - Exports (one row per order per customer per day: the bulk) only for
#     the last --export-days days. Exports are kept 14 days, so a year of
#     them (~130M rows) would be generated only to be deleted: 30 days give
#     a first prune with 16 days of exports to delete and the steady state.
#   - Runs, run-users, ranges, stuck lists and the ledger for all --days
#     days: runs are kept 90 days, so the first prune deletes 275 days of
#     them; the ledger is kept 400 days, so none of it goes.
# Then:
#   1. database size and the biggest tables;
#   2. the first prune of that never-pruned year (catch-up), with retentions
#      one day longer than the defaults (15/91/365 days), then ONE PRUNE DAY:
#      the defaults (14/90/364), which deletes exactly one more day of each
#      kind - what beat does every night. A sampler (psql \watch every
#      100 ms) records the pruner's transactions (application_name) holding
#      relation locks: the longest one seen is the longest lock held;
#   3. sizes after, and the steady state per customer-day (bytes per row of
#      each table measured before the prune, times rows per customer-day,
#      times the days each kind is kept);
#   4. wrk (16 connections, 2 threads) against the customer endpoints
#      (p99 target 20 ms) and the console's (50 ms); EXPLAIN (ANALYZE,
#      BUFFERS) of the main query of every endpoint that misses;
#   5. store_and_compare of a 10,000-order export against that history
#      (crates/core/examples/bench_compare.rs; target 1 s).
# At the defaults it takes about 15 minutes on 2 cores and ~6 GB of disk.
# The database (reporter_bench_growth) is dropped at the end unless
# --keep-db.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

CUSTOMERS=100
DAYS=365
EXPORT_DAYS=30
DURATION=10s
KEEP_DB=0
ENDPOINTS_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --customers) CUSTOMERS=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --export-days) EXPORT_DAYS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --keep-db) KEEP_DB=1; shift ;;
    --endpoints-only) ENDPOINTS_ONLY=1; KEEP_DB=1; shift ;;
    -h|--help) sed -n '2,50p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
for n in "$CUSTOMERS" "$DAYS" "$EXPORT_DAYS"; do
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 2 ]; then
    die "--customers, --days and --export-days take numbers >= 2"
  fi
done
[ "$EXPORT_DAYS" -le "$DAYS" ] || die "--export-days must not exceed --days"
[ "$DAYS" -ge 92 ] || die "--days must be at least 92 (runs are kept 90 days)"

ensure_build_deps
ensure_postgres
ensure_redis
command -v wrk >/dev/null || apt_install wrk

log "building release binaries and the compare bench"
cargo build --release --quiet -p reporter-api -p reporter-ctl
cargo build --release --quiet -p reporter-core --example bench_compare
BIN="${CARGO_TARGET_DIR:-target}/release"

DB=reporter_bench_growth
export DATABASE_URL="${PG_ADMIN_URL%/*}/$DB" REDIS_URL="$REDIS_BASE_URL"
REPORTER_CREDENTIALS_KEY="$(head -c 32 /dev/urandom | base64)"
PREFIX="reporter-bench-growth-$$"
export REPORTER_CREDENTIALS_KEY REPORTER_REDIS_PREFIX=$PREFIX RUST_LOG=warn
export REPORTER_TIMEZONE=America/Bogota
# What the compose files give an api replica (REPORTER_API_DB_POOL_SIZE):
# about twice the cores of the database host, here this machine's.
export REPORTER_DB_POOL_SIZE="${REPORTER_DB_POOL_SIZE:-$(( 2 * $(nproc) ))}"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export REPORTER_API_BIND="127.0.0.1:$PORT"
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/bench-growth.XXXXXX)
API_PID=""
SAMPLER_PID=""
cleanup() {
  [ -z "$SAMPLER_PID" ] || kill "$SAMPLER_PID" 2>/dev/null || true
  [ -z "$API_PID" ] || kill "$API_PID" 2>/dev/null || true
  redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX:*" 2>/dev/null \
    | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  if [ "$KEEP_DB" -eq 0 ]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

q() { psql "$DATABASE_URL" -X -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
section() { printf '\n== %s\n' "$*"; }

ADMIN_EMAIL=bench-admin@bench.test
CUSTOMER_EMAIL=bench-c$CUSTOMERS@bench.test
if [ "$ENDPOINTS_ONLY" -eq 1 ]; then
  q -c "SELECT 1 FROM users WHERE email = '$CUSTOMER_EMAIL'" | grep -q 1 \
    || die "--endpoints-only needs the database of an earlier --keep-db run (same --customers)"
  "$BIN"/reporterctl migrate >/dev/null
else
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
"$BIN"/reporterctl migrate >/dev/null

# The biggest customer and the admin are made with reporterctl (real
# password hashes: the bench logs in as them); the others are rows.
ADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
CUSTOMER_PW=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$ADMIN_PW" | "$BIN"/reporterctl user create --email "$ADMIN_EMAIL" --admin >/dev/null
printf '%s\n' "$CUSTOMER_PW" | "$BIN"/reporterctl user create --email "$CUSTOMER_EMAIL" --monthly-orders 10000 >/dev/null

cat <<EOF
bench-growth: $CUSTOMERS customers, $DAYS days of runs, stuck lists and ledger,
full exports for the last $EXPORT_DAYS days only (exports are kept 14 days: a
year of them would be generated only to be pruned), on $(nproc) cores.
EOF

# --- 0. generate ------------------------------------------------------------------------
log "generating customers, runs, run-users and ranges"
T0=$(now)
q -q -v customers="$CUSTOMERS" -v days="$DAYS" -v export_days="$EXPORT_DAYS" <<'SQL'
SET synchronous_commit = off;
SET work_mem = '256MB';
UPDATE reporter_slot_config SET reporter_hour_start = 6, reporter_hour_end = 24, slot_capacity = 20;
UPDATE reporter_hour_slots SET capacity_points = 20 WHERE hour BETWEEN 6 AND 23;
CREATE TABLE bench_customers AS
  SELECT i AS idx,
         (500 + round(9500 * power((i - 1)::numeric / (:customers - 1), 2)))::int AS monthly,
         6 + (i - 1) % 18 AS hour
    FROM generate_series(1, :customers) AS i;
ALTER TABLE bench_customers
  ADD COLUMN user_id bigint, ADD COLUMN slot_id int, ADD COLUMN weight int,
  ADD COLUMN stuck int, ADD COLUMN shift int;
UPDATE bench_customers SET
  weight = CASE WHEN monthly <= 2000 THEN 1 WHEN monthly <= 5000 THEN 2 ELSE 3 END,
  stuck = round(monthly * 0.05)::int,
  shift = ceil(monthly / 30.0)::int,
  slot_id = (SELECT id FROM reporter_hour_slots s WHERE s.hour = bench_customers.hour);
INSERT INTO users (email, password_hash, monthly_orders_estimate, created_at)
  SELECT 'bench-c' || idx || '@bench.test', 'x', monthly, now() - interval '400 days'
    FROM bench_customers WHERE idx < :customers;
UPDATE bench_customers c SET user_id = u.id FROM users u WHERE u.email = 'bench-c' || c.idx || '@bench.test';
INSERT INTO reporter_reservations (user_id, slot_id, monthly_orders_estimate, estimated_pending_orders,
                                   calculated_weight, created_at, updated_at, slot_assigned_at)
  SELECT user_id, slot_id, monthly, round(monthly * 0.08)::int, weight,
         now() - interval '400 days', now() - interval '400 days', now() - interval '400 days'
    FROM bench_customers;

CREATE TABLE bench_days AS
  SELECT k, (now() AT TIME ZONE 'America/Bogota')::date - k AS d FROM generate_series(1, :days) AS k;

INSERT INTO reporter_runs (slot_id, scheduled_at, started_at, finished_at, status, created_at, business_date, origin)
  SELECT s.id, t.at, t.at + interval '4 seconds', t.at + interval '38 minutes', 'completed', t.at, bd.d, 'schedule'
    FROM bench_days bd
    JOIN reporter_hour_slots s ON s.hour IN (SELECT DISTINCT hour FROM bench_customers)
    CROSS JOIN LATERAL (SELECT (bd.d + make_interval(hours => s.hour)) AT TIME ZONE 'America/Bogota' AS at) t;

-- ~1 % of run-users lose their last range: (k * 7 + idx) % 97 = 0.
INSERT INTO reporter_run_users (run_id, user_id, download_compare_status, total_pending_orders, total_ranges,
                                ranges_completed, progress_message, created_at, updated_at, weight,
                                download_attempts, finished_at)
  SELECT r.id, c.user_id, 'completed', c.stuck, ceil(c.stuck / 100.0)::int,
         ceil(c.stuck / 100.0)::int - ((bd.k * 7 + c.idx) % 97 = 0)::int,
         'Listo: reportamos tus pedidos sin movimiento', r.scheduled_at, r.finished_at, c.weight, 1,
         r.finished_at - interval '5 minutes'
    FROM reporter_runs r
    JOIN bench_days bd ON bd.d = r.business_date
    JOIN bench_customers c ON c.slot_id = r.slot_id;

INSERT INTO reporter_ranges (run_user_id, range_start, range_end, status, locked_by, locked_at, completed_at,
                             created_at, fence, attempts, error, orders_reported, failures)
  SELECT ru.id, g * 100 + 1, least((g + 1) * 100, ru.total_pending_orders),
         CASE WHEN g >= ru.ranges_completed THEN 'failed' ELSE 'completed' END,
         'bench-worker', ru.created_at + interval '2 minutes',
         CASE WHEN g >= ru.ranges_completed THEN NULL ELSE ru.created_at + make_interval(mins => 5 + g) END,
         ru.created_at + interval '1 minute', g + 1,
         CASE WHEN g >= ru.ranges_completed THEN 3 ELSE 1 END,
         CASE WHEN g >= ru.ranges_completed THEN 'portal: report form did not load (timeout after 30 s)' END,
         CASE WHEN g >= ru.ranges_completed THEN 0 ELSE least((g + 1) * 100, ru.total_pending_orders) - g * 100 END,
         CASE WHEN g >= ru.ranges_completed THEN 3 ELSE 0 END
    FROM reporter_run_users ru
    CROSS JOIN LATERAL generate_series(0, ru.total_ranges - 1) AS g;

UPDATE reporter_runs r SET status = 'failed'
 WHERE EXISTS (SELECT 1 FROM reporter_run_users u WHERE u.run_id = r.id AND u.ranges_completed < u.total_ranges);

-- What the generators below join: per range, its customer and day.
CREATE TABLE bench_ranges AS
  SELECT g.id AS range_id, g.run_user_id, g.range_start, g.range_end, g.status, g.created_at,
         c.user_id, c.monthly, c.shift, bd.k, bd.d,
         c.user_id * 100000000 + (:days - bd.k) * c.shift AS first_order
    FROM reporter_ranges g
    JOIN reporter_run_users ru ON ru.id = g.run_user_id
    JOIN reporter_runs r ON r.id = ru.run_id
    JOIN bench_days bd ON bd.d = r.business_date
    JOIN bench_customers c ON c.user_id = ru.user_id;

INSERT INTO reporter_export_batches (user_id, run_user_id, business_date, row_count, exported_at, baseline)
  SELECT ru.user_id, ru.id, r.business_date, c.monthly, r.started_at + interval '1 minute', true
    FROM reporter_run_users ru
    JOIN reporter_runs r ON r.id = ru.run_id
    JOIN bench_days bd ON bd.d = r.business_date
    JOIN bench_customers c ON c.user_id = ru.user_id
   WHERE bd.k <= :export_days;
SQL
T1=$(now)

# The three big tables, two sessions at once (2 cores): export rows and
# stuck lists in one, the ledger (more indexes) in the other.
log "generating export rows and stuck lists | the reports ledger (in parallel)"
q -q -v days="$DAYS" >"$WORK/gen-a.log" 2>&1 <<'SQL' &
SET synchronous_commit = off;
SET work_mem = '256MB';
INSERT INTO reporter_export_rows (batch_id, order_id, order_date, status, carrier, tracking_number, customer, city, total)
  SELECT b.id, o.id,
         to_char(b.business_date - 30 + (n * 30 / c.monthly), 'YYYY-MM-DD'),
         CASE WHEN n % 20 = 0 THEN 'EN_TRANSITO'
              ELSE (ARRAY['GUIA_GENERADA', 'EN_BODEGA', 'EN_REPARTO', 'ENTREGADO', 'EN_TRANSITO', 'DEVUELTO'])[(n / 20 + bd.k) % 6 + 1] END,
         (ARRAY['Servientrega', 'Coordinadora', 'Interrapidisimo', 'Envia', 'TCC'])[o.id % 5 + 1],
         'TRK' || lpad(o.id::text, 12, '0'),
         'Cliente ' || (o.id % 997),
         (ARRAY['Bogotá', 'Medellín', 'Cali', 'Barranquilla', 'Cartagena', 'Bucaramanga', 'Pereira', 'Cúcuta'])[o.id % 8 + 1],
         19900 + (o.id % 50000) * 10
    FROM reporter_export_batches b
    JOIN bench_days bd ON bd.d = b.business_date
    JOIN bench_customers c ON c.user_id = b.user_id
    CROSS JOIN LATERAL generate_series(0, c.monthly - 1) AS n
    CROSS JOIN LATERAL (SELECT c.user_id * 100000000 + (:days - bd.k) * c.shift + n AS id) o;
INSERT INTO reporter_stuck_orders (run_user_id, position, order_id, status, carrier, tracking_number, order_date)
  SELECT g.run_user_id, p, o.id, 'EN_TRANSITO',
         (ARRAY['Servientrega', 'Coordinadora', 'Interrapidisimo', 'Envia', 'TCC'])[o.id % 5 + 1],
         'TRK' || lpad(o.id::text, 12, '0'),
         to_char(g.d - 30 + (20 * (p - 1) * 30 / g.monthly), 'YYYY-MM-DD')
    FROM bench_ranges g
    CROSS JOIN LATERAL generate_series(g.range_start, g.range_end) AS p
    CROSS JOIN LATERAL (SELECT g.first_order + 20 * (p - 1) AS id) o;
SQL
GEN_A=$!
q -q >"$WORK/gen-b.log" 2>&1 <<'SQL' &
SET synchronous_commit = off;
SET work_mem = '256MB';
INSERT INTO reporter_order_reports (user_id, order_id, business_date, run_user_id, range_id, ticket, outcome,
                                    status, carrier, tracking_number, reported_at)
  SELECT g.user_id, o.id, g.d, g.run_user_id, g.range_id,
         'TCK-' || to_char(g.d, 'YYMMDD') || '-' || to_hex(o.id),
         'reported', 'EN_TRANSITO',
         (ARRAY['Servientrega', 'Coordinadora', 'Interrapidisimo', 'Envia', 'TCC'])[o.id % 5 + 1],
         'TRK' || lpad(o.id::text, 12, '0'),
         g.created_at + make_interval(secs => 60 + 3 * p)
    FROM bench_ranges g
    CROSS JOIN LATERAL generate_series(g.range_start, g.range_end) AS p
    CROSS JOIN LATERAL (SELECT g.first_order + 20 * (p - 1) AS id) o
   WHERE g.status = 'completed';
SQL
GEN_B=$!
rc_a=0; rc_b=0
wait "$GEN_A" || rc_a=$?
wait "$GEN_B" || rc_b=$?
[ "$rc_a" -eq 0 ] || { cat "$WORK/gen-a.log" >&2; die "generating export rows / stuck lists failed"; }
[ "$rc_b" -eq 0 ] || { cat "$WORK/gen-b.log" >&2; die "generating the ledger failed"; }
T2=$(now)
log "VACUUM ANALYZE (what autovacuum would have done over the year)"
q -q -c "DROP TABLE bench_ranges" -c "VACUUM (ANALYZE)"
T3=$(now)

section "0. generated history"
q -F $'\t' <<SQL | column -t -s $'\t'
SELECT 'table', 'rows', 'days' UNION ALL
SELECT 'reporter_runs', count(*)::text, count(DISTINCT business_date)::text FROM reporter_runs UNION ALL
SELECT 'reporter_run_users', count(*)::text, '' FROM reporter_run_users UNION ALL
SELECT 'reporter_ranges (failed)', count(*) || ' (' || count(*) FILTER (WHERE status = 'failed') || ')', '' FROM reporter_ranges UNION ALL
SELECT 'reporter_stuck_orders', count(*)::text, '' FROM reporter_stuck_orders UNION ALL
SELECT 'reporter_export_batches', count(*)::text, count(DISTINCT business_date)::text FROM reporter_export_batches UNION ALL
SELECT 'reporter_export_rows', count(*)::text, '' FROM reporter_export_rows UNION ALL
SELECT 'reporter_order_reports', count(*)::text, count(DISTINCT business_date)::text FROM reporter_order_reports;
SQL
q -c "SELECT format('customers: %s, monthly orders %s-%s (mean %s), weights 1/2/3: %s/%s/%s, hours %s-%s',
         count(*), min(monthly), max(monthly), round(avg(monthly)), count(*) FILTER (WHERE weight = 1),
         count(*) FILTER (WHERE weight = 2), count(*) FILTER (WHERE weight = 3), min(hour), max(hour))
         FROM bench_customers"
echo "generation: runs/ranges $(secs "$T0" "$T1") s, export rows + stuck lists | ledger $(secs "$T1" "$T2") s, VACUUM ANALYZE $(secs "$T2" "$T3") s"

sizes() {
  q -c "SELECT 'database ' || current_database() || ': ' || pg_size_pretty(pg_database_size(current_database()))"
  q -F $'\t' <<'SQL' | column -t -s $'\t'
SELECT 'table', 'live rows', 'dead rows', 'total size', 'heap', 'indexes' UNION ALL
(SELECT relname, n_live_tup::text, n_dead_tup::text, pg_size_pretty(pg_total_relation_size(relid)),
        pg_size_pretty(pg_relation_size(relid)), pg_size_pretty(pg_indexes_size(relid))
   FROM pg_stat_user_tables WHERE relname LIKE 'reporter%'
  ORDER BY pg_total_relation_size(relid) DESC LIMIT 7);
SQL
}

section "1. size before any prune"
sizes
DB_BEFORE=$(q -c "SELECT pg_database_size(current_database())")
# Each table's size while every row is live and packed (after VACUUM).
q -q -c "CREATE TABLE bench_sizes AS SELECT relname, pg_total_relation_size(relid)::numeric AS bytes
           FROM pg_stat_user_tables WHERE relname LIKE 'reporter%'"

# --- 2. prune --------------------------------------------------------------------------
PRUNE_URL="$DATABASE_URL?application_name=bench-growth-prune"
cat >"$WORK/sampler.sql" <<'SQL'
SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
       round((extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::numeric, 1),
       round((extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::numeric, 1),
       coalesce((SELECT string_agg(DISTINCT l.mode, '+') FROM pg_locks l
                  WHERE l.pid = a.pid AND l.granted AND l.locktype IN ('relation', 'transactionid', 'tuple')), ''),
       (SELECT count(*) FROM pg_stat_activity b WHERE a.pid = ANY (pg_blocking_pids(b.pid))),
       regexp_replace(left(a.query, 90), '\s+', ' ', 'g')
  FROM pg_stat_activity a
 WHERE a.application_name = 'bench-growth-prune' AND a.state = 'active' AND a.pid <> pg_backend_pid()
\watch 0.1
SQL

# prune LABEL EXPORT_DAYS RUN_DAYS REPORT_DAYS
prune() {
  local label=$1 samples="$WORK/samples-$1.txt" t0 t1
  psql "$DATABASE_URL" -X -At -F'|' -f "$WORK/sampler.sql" >"$samples" 2>/dev/null &
  SAMPLER_PID=$!
  sleep 0.3
  t0=$(now)
  DATABASE_URL=$PRUNE_URL REPORTER_EXPORT_RETENTION_DAYS=$2 REPORTER_RUN_RETENTION_DAYS=$3 \
    REPORTER_REPORT_RETENTION_DAYS=$4 "$BIN"/reporterctl prune >"$WORK/prune-$label.out"
  t1=$(now)
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  sed -n '2,$p' "$WORK/prune-$label.out" | sed 's/^/  /'
  echo "  took $(secs "$t0" "$t1") s"
  awk -F'|' -v n="$(wc -l <"$samples")" '
    $4 != "" { if ($2 + 0 > mx) { mx = $2 + 0; q = $6 } if ($3 + 0 > ms) ms = $3 + 0; held++ }
    $5 + 0 > 0 { blocked++ }
    END {
      printf "  lock sampler: %d samples every 100 ms, %d with the pruner holding locks; longest transaction holding locks: %.0f ms, longest statement: %.0f ms; samples with another backend blocked on it: %d\n", n, held, mx, ms, blocked
      if (q != "") printf "  (longest: %s)\n", q
      if (mx > 1000) print "  MISS no lock held more than a second"; else print "  OK   no lock held more than a second (sampled)"
    }' "$samples"
}

section "2a. first prune of the never-pruned year (catch-up; retention 15/91/365 days)"
prune catchup 15 91 365
section "2b. ONE PRUNE DAY (defaults 14/90 days; ledger at 364 days so one day of it goes too)"
prune day 14 90 364

section "3. size after the prunes"
sizes
echo "(deleted rows leave free space inside the files, reused by new rows; the files do not shrink)"
log "VACUUM (makes the space reusable, as autovacuum does)"
q -q -c "VACUUM (ANALYZE)"
echo "after VACUUM: $(q -c "SELECT pg_size_pretty(pg_database_size(current_database()))") (before any prune: $(q -c "SELECT pg_size_pretty($DB_BEFORE::bigint)"))"
echo
echo "steady state: bytes per customer-day = each kind's tables' size before the prune (rows packed,"
echo "indexes included) / (customers x days generated); kept = retention + today; x $CUSTOMERS customers"
q -F $'\t' -v customers="$CUSTOMERS" -v days="$DAYS" -v export_days="$EXPORT_DAYS" <<'SQL' | column -t -s $'\t'
WITH per_day AS (
  SELECT 'exports (rows + batches)' AS kind, 15 AS kept, sum(bytes) / (:customers * :export_days) AS bytes
    FROM bench_sizes WHERE relname IN ('reporter_export_rows', 'reporter_export_batches')
  UNION ALL
  SELECT 'runs, run-users, ranges, stuck lists', 91, sum(bytes) / (:customers * :days)
    FROM bench_sizes WHERE relname IN ('reporter_runs', 'reporter_run_users', 'reporter_ranges', 'reporter_stuck_orders')
  UNION ALL
  SELECT 'reports ledger', 401, sum(bytes) / (:customers * :days)
    FROM bench_sizes WHERE relname = 'reporter_order_reports')
SELECT 'kind', 'per customer-day', 'days kept', 'per customer', 'all customers' UNION ALL
(SELECT kind, pg_size_pretty(bytes::bigint), kept::text, pg_size_pretty((bytes * kept)::bigint),
        pg_size_pretty((bytes * kept * :customers)::bigint) FROM per_day)
UNION ALL
SELECT 'total', pg_size_pretty(sum(bytes)::bigint), '', pg_size_pretty(sum(bytes * kept)::bigint),
       pg_size_pretty(sum(bytes * kept * :customers)::bigint) FROM per_day;
SQL
echo "(the ledger (400 days) is the steady state's biggest part; exports are the biggest per day)"
fi

# --- 4. endpoints ----------------------------------------------------------------------
"${API_BIN:-$BIN/reporter-api}" >"$WORK/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 100); do curl -fsS "$BASE/api/v1/livez" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$BASE/api/v1/livez" >/dev/null || { tail -n 20 "$WORK/api.log" >&2; die "reporter-api did not start"; }
login() {
  EMAIL=$1 PASSWORD=$2 python3 -c 'import json, os, sys
json.dump({"email": os.environ["EMAIL"], "password": os.environ["PASSWORD"]}, sys.stdout)' \
    | curl -fsS -X POST "$BASE/api/auth/login/" -H 'Content-Type: application/json' --data-binary @- \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
if [ "$ENDPOINTS_ONLY" -eq 1 ]; then
  # The passwords of the generating run are gone: tokens straight from the CLI.
  ADMIN_TOKEN=$("$BIN"/reporterctl token create --email "$ADMIN_EMAIL" --name bench --days 1)
  CUSTOMER_TOKEN=$("$BIN"/reporterctl token create --email "$CUSTOMER_EMAIL" --name bench --days 1)
else
  ADMIN_TOKEN=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
  CUSTOMER_TOKEN=$(login "$CUSTOMER_EMAIL" "$CUSTOMER_PW")
fi
CUSTOMER_ID=$(q -c "SELECT id FROM users WHERE email = '$CUSTOMER_EMAIL'")
YESTERDAY=$(q -c "SELECT (now() AT TIME ZONE 'America/Bogota')::date - 1")
TODAY=$(q -c "SELECT (now() AT TIME ZONE 'America/Bogota')::date")
OLD_DAY=$(q -c "SELECT (now() AT TIME ZONE 'America/Bogota')::date - 60")
RUN_ID=$(q -c "SELECT r.id FROM reporter_runs r JOIN reporter_run_users u ON u.run_id = r.id
               WHERE u.user_id = $CUSTOMER_ID AND r.business_date = '$YESTERDAY'")
RUN_USER_ID=$(q -c "SELECT id FROM reporter_run_users WHERE run_id = $RUN_ID AND user_id = $CUSTOMER_ID")
FILED=$(q -c "SELECT count(*) FROM reporter_order_reports WHERE run_user_id = $RUN_USER_ID")
DEEP=$(( (FILED + 24) / 25 ))
SEARCH=$(q -c "SELECT substr(tracking_number, 8, 6) FROM reporter_order_reports WHERE run_user_id = $RUN_USER_ID LIMIT 1")

declare -a NAMES PATHS TOKENS TARGETS
add() { NAMES+=("$1"); PATHS+=("$2"); TOKENS+=("$3"); TARGETS+=("$4"); }
add summary "/api/reporter/summary/" "$CUSTOMER_TOKEN" 20
add runs "/api/reporter/runs/" "$CUSTOMER_TOKEN" 20
add "reports p1" "/api/reporter/runs/$RUN_ID/reports/" "$CUSTOMER_TOKEN" 20
add "reports status" "/api/reporter/runs/$RUN_ID/reports/?status=EN_TRANSITO&page=2" "$CUSTOMER_TOKEN" 20
add "reports q" "/api/reporter/runs/$RUN_ID/reports/?q=$SEARCH" "$CUSTOMER_TOKEN" 20
add "reports deep" "/api/reporter/runs/$RUN_ID/reports/?page=$DEEP" "$CUSTOMER_TOKEN" 20
add "reports deep 200" "/api/reporter/runs/$RUN_ID/reports/?per_page=200&page=$(( (FILED + 199) / 200 ))" "$CUSTOMER_TOKEN" 20
add "admin runs" "/api/reporter/admin/runs/?date=$YESTERDAY" "$ADMIN_TOKEN" 50
add "admin runs -60d" "/api/reporter/admin/runs/?date=$OLD_DAY" "$ADMIN_TOKEN" 50
add failed-ranges "/api/reporter/admin/failed-ranges/" "$ADMIN_TOKEN" 50
add activity "/api/reporter/admin/activity/" "$ADMIN_TOKEN" 50
add queues "/api/reporter/admin/queues/" "$ADMIN_TOKEN" 50

# ms of a wrk latency like 812.00us, 1.23ms, 1.01s
to_ms() { awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); n = v + 0;
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.2f", n }'; }

section "4. endpoints: wrk -t2 -c16 -d$DURATION --latency (API pool $REPORTER_DB_POOL_SIZE connections; customer $CUSTOMER_EMAIL, run $RUN_ID: $FILED orders filed)"
printf '%-18s %9s %9s %9s %8s %7s  %s\n' endpoint p50_ms p99_ms req/s errors target verdict
declare -a MISSED
for i in "${!NAMES[@]}"; do
  url="$BASE${PATHS[$i]}"
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "Authorization: Token ${TOKENS[$i]}" "$url")
  [ "$code" = 200 ] || { echo "  ${NAMES[$i]}: HTTP $code: $(head -c 200 "$WORK/body")"; }
  wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Token ${TOKENS[$i]}" "$url" >"$WORK/wrk.out" 2>&1 || true
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$WORK/wrk.out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")")
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.out")
  errs=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {n += 1} END {print n + 0}' "$WORK/wrk.out")
  verdict=OK
  if awk -v p="$p99" -v t="${TARGETS[$i]}" 'BEGIN { exit !(p > t) }'; then verdict=MISS; MISSED+=("$i"); fi
  printf '%-18s %9s %9s %9s %8s %5sms  %s\n' "${NAMES[$i]}" "$p50" "$p99" "$rps" "$errs" "${TARGETS[$i]}" "$verdict"
done

echo "(16 closed-loop connections: latency ~ 16 / (req/s), and on 2 cores wrk, the API and PostgreSQL"
echo " share the CPU: a miss whose EXPLAIN below takes ~1 ms is CPU-bound, not a query to fix)"

# The main query of each endpoint (crates/core/src/models), with this run's values.
explain_sql() {
  local from_1d
  from_1d=$(q -c "SELECT date_trunc('hour', now() - interval '23 hours')")
  case "$1" in
    summary) cat <<SQL
SELECT count(*) FILTER (WHERE business_date = '$TODAY') AS today,
       count(*) FILTER (WHERE business_date > date '$TODAY' - 7) AS last_7_days, count(*) AS last_30_days
  FROM reporter_order_reports
 WHERE user_id = $CUSTOMER_ID AND business_date > date '$TODAY' - 30 AND business_date <= '$TODAY';
SQL
    ;;
    runs) cat <<SQL
SELECT r.*, s.hour FROM reporter_run_users u JOIN reporter_runs r ON r.id = u.run_id
  JOIN reporter_hour_slots s ON s.id = r.slot_id
 WHERE u.user_id = $CUSTOMER_ID AND u.report_mode = 'live'
 ORDER BY u.scheduled_at DESC, u.run_id DESC LIMIT 30;
SQL
    ;;
    reports*)
      local filter="" limit=25 offset=0
      case "$1" in
        "reports status") filter="AND status = 'EN_TRANSITO'"; offset=25 ;;
        "reports q") filter="AND (order_id::text LIKE '$SEARCH%' OR tracking_number ILIKE '%$SEARCH%'
       OR carrier ILIKE '%$SEARCH%' OR ticket ILIKE '%$SEARCH%')" ;;
        "reports deep") offset=$(( (DEEP - 1) * 25 )) ;;
        "reports deep 200") limit=200; offset=$(( (FILED - 1) / 200 * 200 )) ;;
      esac
      cat <<SQL
SELECT order_id, status, carrier, tracking_number, ticket, outcome, reported_at
  FROM reporter_order_reports WHERE run_user_id = $RUN_USER_ID $filter
 ORDER BY reported_at DESC, id DESC LIMIT $limit OFFSET $offset;
SQL
    ;;
    "admin runs"*) cat <<SQL
SELECT r.id, (SELECT count(*) FROM reporter_run_users u WHERE u.run_id = r.id) AS users,
       (SELECT count(*) FROM reporter_ranges g JOIN reporter_run_users u ON u.id = g.run_user_id WHERE u.run_id = r.id) AS ranges_total,
       (SELECT count(*) FROM reporter_order_reports o JOIN reporter_run_users u ON u.id = o.run_user_id WHERE u.run_id = r.id) AS orders_reported
  FROM reporter_runs r JOIN reporter_hour_slots s ON s.id = r.slot_id
 WHERE r.scheduled_at >= (date '$YESTERDAY')::timestamp AT TIME ZONE 'America/Bogota'
   AND r.scheduled_at < (date '$TODAY')::timestamp AT TIME ZONE 'America/Bogota'
 ORDER BY r.scheduled_at, r.id;
SQL
    ;;
    failed-ranges) cat <<SQL
SELECT g.id, r.id, u.user_id, us.email, s.hour FROM reporter_ranges g
  JOIN reporter_run_users u ON u.id = g.run_user_id JOIN reporter_runs r ON r.id = u.run_id
  JOIN reporter_hour_slots s ON s.id = r.slot_id JOIN users us ON us.id = u.user_id
 WHERE g.status = 'failed' ORDER BY g.id DESC LIMIT 50;
SQL
    ;;
    activity) cat <<SQL
SELECT date_trunc('hour', reported_at) AS hour, count(*) FROM reporter_order_reports
 WHERE reported_at >= '$from_1d' GROUP BY 1 ORDER BY 1;
SQL
    ;;
    *) echo "" ;;
  esac
}
if [ "${#MISSED[@]}" -gt 0 ]; then
  section "4b. EXPLAIN (ANALYZE, BUFFERS) of the endpoints that missed"
  for i in "${MISSED[@]}"; do
    sql=$(explain_sql "${NAMES[$i]}")
    echo "-- ${NAMES[$i]}"
    if [ -z "$sql" ]; then echo "   (no SQL: Redis only)"; continue; fi
    printf '%s\n' "$sql" | sed 's/^/   /'
    q -c "EXPLAIN (ANALYZE, BUFFERS) $sql" | sed 's/^/   /'
  done
fi

# --- 5. compare ------------------------------------------------------------------------
if [ "$ENDPOINTS_ONLY" -eq 1 ]; then exit 0; fi
section "5. store_and_compare of a 10,000-order export against the history (median of 5)"
cargo run --release --quiet -p reporter-core --example bench_compare -- --orders 10000 --reps 5 \
  | tee "$WORK/compare.out" | sed 's/^/  /'
median=$(sed -n 's/.*median of [0-9]*: \([0-9.]*\) ms.*/\1/p' "$WORK/compare.out")
if awk -v m="$median" 'BEGIN { exit !(m > 1000) }'; then echo "  MISS store_and_compare ${median} ms > 1000 ms"
else echo "  OK   store_and_compare ${median} ms <= 1000 ms"; fi

[ "$KEEP_DB" -eq 0 ] || echo "kept database $DB (DATABASE_URL=$DATABASE_URL)"
