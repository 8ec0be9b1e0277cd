#!/usr/bin/env bash
# Pipeline benchmark: two release reporter-worker processes against the
# scripted fake portal, real PostgreSQL and Redis. Prints total time, jobs/s,
# orders/s, tick-to-pickup latency, makespan against the ideal, and worker
# memory. Asserts nothing.
#
#   scripts/bench-pipeline.sh                      # 50 users x 1000 orders
#   BENCH_USERS=10 BENCH_ORDERS=500 scripts/bench-pipeline.sh
#   BENCH_SCENARIOS=B BENCH_B_RUNS=5 scripts/bench-pipeline.sh   # makespan only, median of 5
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,10p' "$0"; exit 0
fi
ensure_build_deps
ensure_postgres
ensure_redis
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$PG_ADMIN_URL}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-$REDIS_BASE_URL}"
log "building release binaries"
cargo build --release --quiet -p reporter-worker --bins --examples
WORKER_BIN=target/release/reporter-worker target/release/examples/bench_pipeline
