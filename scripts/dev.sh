#!/usr/bin/env bash
# The whole system locally with demo data: PostgreSQL and Redis (installed
# and started if needed), migrations, demo users with reservations and portal
# credentials, the portal simulator (portal-sim) with chromedriver, the API,
# beat and two workers driving real headless Chromium.
# REPORTER_PORTAL_DRIVER=fake runs the workers against the scripted fake
# portal instead (no browser).
# Prints the URL to open, the demo logins and how to watch a run. Ctrl-C
# stops everything it started.
#
#   scripts/dev.sh            # build and run
#   PORT=8001 scripts/dev.sh  # another API port
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,9p' "$0"; exit 0
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
# One local API, no proxy in front: nothing to drain for on Ctrl-C.
export REPORTER_API_DRAIN_SECS="${REPORTER_API_DRAIN_SECS:-0}"
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
# A new customer: no reservation and no portal account yet (the reserve screen).
create_user cliente4@demo.test demo-cliente 800
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

# Yesterday's runs store each customer's baseline export, and the portal
# moves on a day: a run today then finds stuck orders to report, so the
# newcomer can watch one from the console. Done once per dev database.
TZ_NAME="${REPORTER_TIMEZONE:-America/Bogota}"
YESTERDAY=$(TZ="$TZ_NAME" date -d yesterday +%F)
TODAY=$(TZ="$TZ_NAME" date +%F)
baseline_runs() {
  psql "$DATABASE_URL" -Atqc "SELECT count(*) FROM reporter_runs WHERE business_date = '$YESTERDAY' AND finished_at IS NOT NULL"
}
if [ "$(baseline_runs)" -lt 2 ]; then
  log "preparing the demo: yesterday's baseline runs (09:00 and 10:00)"
  for h in 9 10; do "$BIN/reporterctl" trigger-slot --hour "$h" --date "$YESTERDAY" >/dev/null; done
  for _ in $(seq 1 240); do [ "$(baseline_runs)" -ge 2 ] && break; sleep 0.5; done
  [ "$(baseline_runs)" -ge 2 ] || log "baseline runs still going; see $DEV_DIR/logs/worker1.log"
fi
if [ "$REPORTER_PORTAL_DRIVER" = fake ]; then
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" GET "$REPORTER_REDIS_PREFIX:fake:day")" -ge 2 ] \
    || redis-cli -h 127.0.0.1 -p "$REDIS_PORT" INCR "$REPORTER_REDIS_PREFIX:fake:day" >/dev/null
else
  curl -fsS -X POST "$REPORTER_PORTAL_URL/_sim/advance-day" >/dev/null
fi

cat <<MSG

  Reporter is running.

  Open:       $API/
    operator   $DEMO_ADMIN / $DEMO_ADMIN_PW   (console: queues, workers, browsers, runs)
    customers  cliente1@demo.test, cliente2@demo.test (09:00), cliente3@demo.test (10:00) / demo-cliente
    new        cliente4@demo.test / demo-cliente   (no reservation yet: reserve an hour)

  Watch a run: log in as the operator, Acciones → "Ejecutar franja ahora" with
  today ($TODAY) and 09:00, then log in as cliente1 in another window to see
  the progress and the reported orders. (An hour runs once a day; use 10:00
  next, or the CLI below with later dates.)

  API:        $API/api/   (docs: $API/api/docs, health: $API/api/v1/healthz)
  Portal simulator: $REPORTER_PORTAL_URL/login (cliente1@portal.test / clave-1)

  From a shell:
    source <(scripts/dev-env.sh)     # same settings as this script
    target/debug/reporterctl trigger-slot --hour 9 --date $TODAY
    target/debug/reporterctl runs | queues | semaphore
    curl $REPORTER_PORTAL_URL/_sim/stats

  Logs in $DEV_DIR/logs/ (api, beat, worker1, worker2, portal-sim, chromedriver);
  failure screenshots in .dev/artifacts/. Ctrl-C stops everything.
MSG
wait
