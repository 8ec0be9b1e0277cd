#!/usr/bin/env bash
# Loads reporter-api (release build) on loopback and prints requests/s and
# latency percentiles for GET /api/reporter/slots/ and for reservation
# POST/DELETE cycles, plus the API's idle resident memory. Prints numbers;
# asserts nothing.
#
#   scripts/bench-api.sh [--duration 10s] [--connections 64]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

DURATION=10s
CONNS=64
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done

ensure_build_deps
ensure_postgres
ensure_redis
command -v wrk >/dev/null || apt_install wrk

log "building release binaries"
cargo build --release --quiet -p reporter-api -p reporter-ctl

DB=reporter_bench
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="${PG_ADMIN_URL%/*}/$DB" REDIS_URL="$REDIS_BASE_URL"
REPORTER_CREDENTIALS_KEY="$(head -c 32 /dev/urandom | base64)"
export REPORTER_CREDENTIALS_KEY REPORTER_REDIS_PREFIX=reporter-bench RUST_LOG=warn
PORT=18080
# On a 2-core machine shared with PostgreSQL and wrk, few connections win;
# override to compare.
export REPORTER_DB_POOL_SIZE="${REPORTER_DB_POOL_SIZE:-4}"
export REPORTER_API_BIND="127.0.0.1:$PORT"
target/release/reporterctl migrate >/dev/null

USERS_PER_THREAD=2000
THREADS=2
TOTAL=$((USERS_PER_THREAD * THREADS))
log "creating $TOTAL bench users with tokens"
psql "$DATABASE_URL" -q <<SQL
UPDATE reporter_hour_slots SET capacity_points = 100000;
INSERT INTO users (email, password_hash) SELECT 'bench' || i || '@bench.test', 'x' FROM generate_series(0, $TOTAL - 1) i;
INSERT INTO api_tokens (user_id, token_hash, name)
  SELECT u.id, sha256(convert_to('bench-' || (u.id - m.min_id), 'UTF8')), 'bench'
    FROM users u, (SELECT min(id) AS min_id FROM users) m;
SQL
SLOT_BASE=$(psql "$DATABASE_URL" -Atqc "SELECT id FROM reporter_hour_slots WHERE hour = 6")

target/release/reporter-api >/tmp/reporter-bench-api.log 2>&1 &
API_PID=$!
trap 'kill $API_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/api/v1/livez" >/dev/null 2>&1 && break; sleep 0.2; done
sleep 1
echo
echo "idle API resident memory: $(awk '/VmRSS/ {print $2, $3}' /proc/$API_PID/status)"

echo
echo "== GET /api/reporter/slots/ ($CONNS connections, $DURATION)"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Token bench-0" \
  "http://127.0.0.1:$PORT/api/reporter/slots/" | sed -n '1,20p'

echo
echo "== reservation POST/DELETE cycles ($CONNS connections, $DURATION)"
sed "s/slot_base + /$SLOT_BASE + /" scripts/bench/reservation_cycle.lua > /tmp/reporter-bench-cycle.lua
BENCH_USERS_PER_THREAD=$USERS_PER_THREAD wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
  -s /tmp/reporter-bench-cycle.lua "http://127.0.0.1:$PORT" | sed -n '1,20p'
echo "(Non-2xx lines above, if any, count refused requests.)"
echo "API resident memory after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$API_PID/status)"
