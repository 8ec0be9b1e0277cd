#!/usr/bin/env bash
# Prints the environment scripts/dev.sh runs with, for `source <(scripts/dev-env.sh)`
# so reporterctl talks to the local dev system.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -s .dev/credentials.key ] || { echo "run scripts/dev.sh first" >&2; exit 1; }
cat <<ENV
export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/reporter_dev
export REDIS_URL=redis://127.0.0.1:6379
export REPORTER_CREDENTIALS_KEY=$(cat .dev/credentials.key)
export REPORTER_REDIS_PREFIX=reporter-dev
ENV
