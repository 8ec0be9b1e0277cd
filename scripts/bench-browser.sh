#!/usr/bin/env bash
# Browser adapter benchmark: headless Chromium through chromedriver against
# an in-process portal-sim at 0 ms latency. Prints the login time, the median
# and p95 time to report one order with a reused session, and the
# export-to-stored time for 10,000 orders (download + parse + store in
# PostgreSQL). Asserts nothing.
#
#   scripts/bench-browser.sh
#   BENCH_REPORTS=500 BENCH_EXPORT_ORDERS=20000 scripts/bench-browser.sh
#   BENCH_LOGINS=1 BENCH_REPORTS=5 RUST_LOG=thirtyfour=debug scripts/bench-browser.sh  # each WebDriver call, timestamped
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,10p' "$0"; exit 0
fi
ensure_build_deps
ensure_postgres
ensure_chromium
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$PG_ADMIN_URL}"
log "building the benchmark (release)"
cargo build --release --quiet -p reporter-worker --example bench_browser
target/release/examples/bench_browser
