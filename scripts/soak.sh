#!/usr/bin/env bash
# A month of unattended operation in compressed time (docs/soak.md): the
# release fleet (portal-sim, API, two beats, three workers) on a PostgreSQL
# cluster and a Redis of its own, customers over the window's hours, a
# seeded fault schedule, a verdict per day and in total. Exits 1 on any lost,
# duplicated or unexpected report, missed customer-day or unfinished run.
#
#   scripts/soak.sh                                   # 30 days, 40 customers, default faults
#   scripts/soak.sh --days 3 --driver webdriver       # real Chromium through chromedriver
#   scripts/soak.sh --faults heavy --seed 7 --json soak.json --report soak-report
#   scripts/soak.sh --help                            # every flag
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

if [ "${1:-}" = "-h" ]; then
  sed -n '2,12p' "$0"; exit 0
fi

ensure_build_deps
# The soak starts its own cluster and Redis from these packages' binaries
# (never restarting the machine's shared ones).
ensure_postgres
ensure_redis
case " $* " in
  *" webdriver "*|*"--driver=webdriver"*) ensure_chromium ;;
esac

log "building release binaries"
cargo build --release --quiet -p reporter-api -p reporter-worker -p reporter-beat \
  -p reporter-ctl -p portal-sim -p reporter-soak --bins
exec target/release/reporter-soak "$@"
