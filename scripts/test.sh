#!/usr/bin/env bash
# Every test of the project, against real PostgreSQL, Redis and (for the
# browser path) headless Chromium. Installs and starts what is missing.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -p reporter-api   # extra args go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,7p' "$0"; exit 0
fi

ensure_build_deps
ensure_diesel_cli
ensure_postgres
ensure_redis
ensure_chromium
# schemathesis (pinned) in target/venv-schemathesis, for tests/deploy/test_schemathesis.sh
# shellcheck source=scripts/lib/schemathesis.sh
source scripts/lib/schemathesis.sh
ensure_schemathesis || log "schemathesis could not be installed (test_schemathesis.sh will fail)"

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$PG_ADMIN_URL}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-$REDIS_BASE_URL}"
export RUST_BACKTRACE=1

log "building"
cargo build --workspace --all-targets --quiet
status=0
log "running cargo test"
cargo test --workspace --no-fail-fast "$@" || status=$?
# With no arguments, also the deploy tooling's tests (scripts, compose,
# workflows, backup/restore round trip, smoke test against a live API).
if [ $# -eq 0 ]; then
  log "running tests/deploy"
  bash tests/deploy/run.sh || status=$?
fi
exit "$status"
