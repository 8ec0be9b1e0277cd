#!/usr/bin/env bash
# Loads reporter-api (release build) on loopback and prints requests/s and
# latency percentiles (p50/p99) for GET /api/reporter/slots/ and for
# reservation POST/DELETE cycles, plus the API's idle resident memory.
# Prints numbers; asserts nothing.
#
#   scripts/bench-api.sh [--duration 10s] [--connections 64]
#   scripts/bench-api.sh --compare /tmp/api-before --rounds 3
#       # GET /slots/ only, alternating the built binary (or $API_BIN) with
#       # another build (same database, same data), N rounds each
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

DURATION=10s
CONNS=64
COMPARE=""
ROUNDS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --compare) COMPARE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done

ensure_build_deps
ensure_postgres
ensure_redis
command -v wrk >/dev/null || apt_install wrk

log "building release binaries"
cargo build --release --quiet -p reporter-api -p reporter-ctl
# API_BIN: another build to measure (e.g. a copy kept from an earlier commit).
API_BIN="${API_BIN:-target/release/reporter-api}"

DB=reporter_bench
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="${PG_ADMIN_URL%/*}/$DB" REDIS_URL="$REDIS_BASE_URL"
REPORTER_CREDENTIALS_KEY="$(head -c 32 /dev/urandom | base64)"
export REPORTER_CREDENTIALS_KEY REPORTER_REDIS_PREFIX=reporter-bench RUST_LOG=warn
# A free port: a fixed one could be another API's, and wrk would measure it.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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

start_api() {
  "$1" >/tmp/reporter-bench-api.log 2>&1 &
  API_PID=$!
  for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/api/v1/livez" >/dev/null 2>&1 && break; sleep 0.2; done
  if ! kill -0 "$API_PID" 2>/dev/null || ! curl -fsS "http://127.0.0.1:$PORT/api/v1/livez" >/dev/null 2>&1; then
    tail -n 20 /tmp/reporter-bench-api.log >&2
    die "reporter-api ($1) did not start"
  fi
  sleep 1
}
stop_api() {
  kill "$API_PID" 2>/dev/null || true
  wait "$API_PID" 2>/dev/null || true
}
trap stop_api EXIT

bench_slots() {
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Token bench-0" \
    "http://127.0.0.1:$PORT/api/reporter/slots/"
}

if [ -n "$COMPARE" ]; then
  [ -x "$COMPARE" ] || die "--compare needs an executable reporter-api, got $COMPARE"
  echo
  echo "== GET /api/reporter/slots/ ($CONNS connections, $DURATION), $ROUNDS alternating rounds"
  printf '%-6s %-40s %10s %8s %8s\n' round binary req/s p50 p99
  for round in $(seq 1 "$ROUNDS"); do
    for bin in "$API_BIN" "$COMPARE"; do
      start_api "$bin"
      out=$(bench_slots)
      stop_api
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
      p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
      p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
      printf '%-6s %-40s %10s %8s %8s\n' "$round" "$bin" "$rps" "$p50" "$p99"
    done
  done
  exit 0
fi

start_api "$API_BIN"
echo
echo "idle API resident memory: $(awk '/VmRSS/ {print $2, $3}' /proc/$API_PID/status)"

echo
echo "== GET /api/reporter/slots/ ($CONNS connections, $DURATION)"
bench_slots | sed -n '1,20p'

echo
echo "== reservation POST/DELETE cycles ($CONNS connections, $DURATION)"
sed "s/slot_base + /$SLOT_BASE + /" scripts/bench/reservation_cycle.lua > /tmp/reporter-bench-cycle.lua
BENCH_USERS_PER_THREAD=$USERS_PER_THREAD wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
  -s /tmp/reporter-bench-cycle.lua "http://127.0.0.1:$PORT" | sed -n '1,20p'
echo "(Non-2xx lines above, if any, count refused requests.)"
echo "API resident memory after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$API_PID/status)"
