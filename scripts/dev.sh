#!/usr/bin/env bash
# The whole system locally with demo data: PostgreSQL and Redis (installed
# and started if needed), migrations, demo users with reservations and portal
# credentials, the portal simulator (portal-sim) with chromedriver, the API,
# beat and two workers driving real headless Chromium.
# REPORTER_PORTAL_DRIVER=fake runs the workers against the scripted fake
# portal instead (no browser).
# Prints the URL, the demo logins and how to trigger a slot. Ctrl-C stops
# everything it started.
#
#   scripts/dev.sh            # build and run
#   PORT=8001 scripts/dev.sh  # another API port
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,8p' "$0"; exit 0
fi

PORT="${PORT:-8000}"
DEV_DIR=.dev
mkdir -p "$DEV_DIR/logs"

ensure_build_deps
ensure_postgres
ensure_redis
ensure_chromium

DEV_DB=reporter_dev
psql "$PG_ADMIN_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DEV_DB'" | grep -q 1 \
  || psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DEV_DB" >/dev/null

# A local key, made once and kept out of git (.dev/ is ignored).
[ -s "$DEV_DIR/credentials.key" ] || head -c 32 /dev/urandom | base64 > "$DEV_DIR/credentials.key"

export DATABASE_URL="${PG_ADMIN_URL%/*}/$DEV_DB"
export REDIS_URL="$REDIS_BASE_URL"
REPORTER_CREDENTIALS_KEY="$(cat "$DEV_DIR/credentials.key")"
export REPORTER_CREDENTIALS_KEY
export REPORTER_REDIS_PREFIX="reporter-dev"
export REPORTER_API_BIND="127.0.0.1:$PORT"
export RUST_LOG="${RUST_LOG:-info}"
export REPORTER_PORTAL_DRIVER="${REPORTER_PORTAL_DRIVER:-webdriver}"
SIM_PORT=9100
DRIVER_PORT=9515
export REPORTER_PORTAL_URL="http://127.0.0.1:$SIM_PORT"
export REPORTER_WEBDRIVER_URL="http://127.0.0.1:$DRIVER_PORT"
export REPORTER_ARTIFACTS_DIR="$PWD/.dev/artifacts"
export REPORTER_WORKER_CONCURRENCY="${REPORTER_WORKER_CONCURRENCY:-3}"

log "building"
cargo build --quiet --bins
BIN=target/debug

log "migrating $DEV_DB"
"$BIN/reporterctl" migrate >/dev/null

user_exists() { psql "$DATABASE_URL" -Atqc "SELECT 1 FROM users WHERE email = '$1'" | grep -q 1; }
create_user() { # email password monthly [--admin]
  local email=$1 password=$2 monthly=$3; shift 3
  user_exists "$email" || printf '%s\n' "$password" | "$BIN/reporterctl" user create --email "$email" --monthly-orders "$monthly" "$@" >/dev/null
}

DEMO_ADMIN=admin@demo.test DEMO_ADMIN_PW=demo-admin
create_user "$DEMO_ADMIN" "$DEMO_ADMIN_PW" 0 --admin
# name:password:monthly orders:hour
DEMO_CUSTOMERS=(
  "cliente1@demo.test:demo-cliente:1500:9"
  "cliente2@demo.test:demo-cliente:4200:9"
  "cliente3@demo.test:demo-cliente:12000:10"
)
FAKE_ACCOUNTS=""
i=0
for c in "${DEMO_CUSTOMERS[@]}"; do
  IFS=: read -r email pw monthly _ <<<"$c"
  create_user "$email" "$pw" "$monthly"
  if [ "$REPORTER_PORTAL_DRIVER" = fake ]; then
    portal_email="portal$((i + 1))@demo.test" portal_pw="portal-$((i + 1))"
  else
    # portal-sim's seeded accounts: clienteN@portal.test / clave-N.
    portal_email="cliente$((i + 1))@portal.test" portal_pw="clave-$((i + 1))"
  fi
  printf '%s' "$portal_pw" | "$BIN/reporterctl" user set-portal-credentials --email "$email" --portal-email "$portal_email" >/dev/null
  FAKE_ACCOUNTS+="${FAKE_ACCOUNTS:+,}{\"email\":\"$portal_email\",\"password\":\"portal-$((i + 1))\",\"orders\":$((300 * (i + 1))),\"stuck_every\":3}"
  i=$((i + 1))
done
# The fake portal reads its accounts from Redis; day 1 until you advance it.
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" SET "$REPORTER_REDIS_PREFIX:fake:config" \
  "{\"accounts\":[$FAKE_ACCOUNTS],\"report_delay_ms\":20}" >/dev/null
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" SETNX "$REPORTER_REDIS_PREFIX:fake:day" 1 >/dev/null

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

start() { # name command...
  local name=$1; shift
  "$@" >"$DEV_DIR/logs/$name.log" 2>&1 &
  PIDS+=($!)
}

if [ "$REPORTER_PORTAL_DRIVER" != fake ]; then
  start portal-sim "$BIN/portal-sim" --bind "127.0.0.1:$SIM_PORT" --accounts 3 --orders-per-account 300 --seed 7
  start chromedriver chromedriver --port="$DRIVER_PORT"
  for _ in $(seq 1 50); do curl -fsS "$REPORTER_PORTAL_URL/_sim/state" >/dev/null 2>&1 && break; sleep 0.2; done
fi
start api "$BIN/reporter-api"
start beat "$BIN/reporter-beat"
start worker1 "$BIN/reporter-worker"
start worker2 "$BIN/reporter-worker"
API="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fsS "$API/api/v1/livez" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$API/api/v1/livez" >/dev/null || die "API did not start; see $DEV_DIR/logs/api.log"

json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
for c in "${DEMO_CUSTOMERS[@]}"; do
  IFS=: read -r email pw monthly hour <<<"$c"
  token=$(curl -fsS -X POST "$API/api/auth/login/" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$pw\"}" | json_field token)
  slot=$(psql "$DATABASE_URL" -Atqc "SELECT id FROM reporter_hour_slots WHERE hour = $hour")
  curl -sS -o /dev/null -X POST "$API/api/reporter/reservations/" -H "Authorization: Token $token" \
    -H 'Content-Type: application/json' -d "{\"slot_id\":$slot,\"monthly_orders_estimate\":$monthly}" || true
done

cat <<MSG

  Reporter is running.

  API:        $API/api/
  API docs:   $API/api/docs
  Health:     $API/api/v1/healthz

  Demo logins (POST $API/api/auth/login/):
    admin      $DEMO_ADMIN / $DEMO_ADMIN_PW
    customers  cliente1@demo.test, cliente2@demo.test, cliente3@demo.test / demo-cliente

  Portal simulator: $REPORTER_PORTAL_URL/login (cliente1@portal.test / clave-1)

  Run a slot now (day 1 stores the baseline; then advance the portal's day
  and run again to see the stuck orders reported by the browser):
    source <(scripts/dev-env.sh)     # same settings as this script
    target/debug/reporterctl trigger-slot --hour 9 --date \$(date +%F)
    curl -X POST $REPORTER_PORTAL_URL/_sim/advance-day   # fake driver: redis-cli INCR $REPORTER_REDIS_PREFIX:fake:day
    target/debug/reporterctl trigger-slot --hour 9 --date \$(date -d tomorrow +%F)
    target/debug/reporterctl runs
    curl $REPORTER_PORTAL_URL/_sim/stats
  (a slot hour runs once; to run again, pick later dates)

  Watch:  target/debug/reporterctl queues | semaphore | runs
  Logs in $DEV_DIR/logs/ (api, beat, worker1, worker2, portal-sim, chromedriver);
  failure screenshots in .dev/artifacts/. Ctrl-C stops everything.
MSG
wait
