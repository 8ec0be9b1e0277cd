#!/usr/bin/env bash
# scripts/smoke-test.sh against a real reporter-api started here: a scratch
# database migrated by reporterctl, a smoke user made by `reporterctl user
# create`, a unique Redis prefix, a free loopback port. Then the fleet stopped
# (passes, reported), and the failures: wrong password, API down.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

if ! pg_up || ! redis_up; then
  not_ok "PostgreSQL ($PG_ADMIN_URL) and Redis ($REDIS_TEST_URL) must be running"
  finish
fi
if ! ensure_bins reporter-api reporterctl reporter-worker reporter-beat; then
  not_ok "reporter-api and reporterctl are not built and cargo build --bins failed"
  finish
fi

ID=$(rand_id)
PORT=$(free_port)
WORK=$(mktemp -d)
API_PID=''
cleanup() {
  if [ -n "$API_PID" ]; then kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; fi
  if [ -n "${WORKER_PID:-}" ]; then kill "$WORKER_PID" 2>/dev/null || true; wait "$WORKER_PID" 2>/dev/null || true; fi
  if [ -n "${BEAT_PID:-}" ]; then kill "$BEAT_PID" 2>/dev/null || true; wait "$BEAT_PID" 2>/dev/null || true; fi
  scratch_app_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

export REPORTER_API_BIND="127.0.0.1:$PORT"
SMOKE_EMAIL="smoke-${ID}@reporter.test"
SMOKE_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')

scratch_app smoke "$ID" >"$WORK/migrate.out" 2>&1 && rc=0 || rc=$?
check "reporterctl migrate on the scratch database" test "$rc" -eq 0
printf '%s\n' "$SMOKE_PASSWORD" | "$BIN_DIR/reporterctl" user create --email "$SMOKE_EMAIL" >/dev/null 2>&1 && rc=0 || rc=$?
check "reporterctl user create makes the smoke account" test "$rc" -eq 0

"$BIN_DIR/reporter-api" >"$WORK/api.log" 2>&1 &
API_PID=$!
# A worker and a beat too, as in production: healthz is only "healthy" with
# a live worker and a recent schedule reconcile (beat's first is at start).
REPORTER_HEARTBEAT_FILE="$WORK/worker.alive" REPORTER_PORTAL_DRIVER=fake "$BIN_DIR/reporter-worker" >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
REPORTER_HEARTBEAT_FILE="$WORK/beat.alive" "$BIN_DIR/reporter-beat" >"$WORK/beat.log" 2>&1 &
BEAT_PID=$!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/api/v1/livez" "$API_PID" && up=1 || up=0
check "reporter-api starts on $REPORTER_API_BIND" test "$up" -eq 1
if [ "$up" -ne 1 ]; then tail -n 20 "$WORK/api.log" | sed 's/^/#   /'; finish; fi

# Liveness of worker and beat (their containers' healthcheck): the loops
# touch their heartbeat files; `reporterctl alive` needs no other setting.
for role in worker beat; do
  alive=1
  for _ in $(seq 1 50); do
    env -i "$BIN_DIR/reporterctl" alive --file "$WORK/$role.alive" --max-age 60 >/dev/null 2>&1 && { alive=0; break; }
    sleep 0.2
  done
  check "reporterctl alive: the $role's heartbeat is fresh (with no other setting)" test "$alive" -eq 0
done

SMOKE="$ROOT/scripts/smoke-test.sh"
# --- the happy path --------------------------------------------------------------------
SMOKE_EMAIL=$SMOKE_EMAIL SMOKE_PASSWORD=$SMOKE_PASSWORD "$SMOKE" "$BASE" >"$WORK/smoke.out" 2>&1 && rc=0 || rc=$?
check "smoke-test.sh passes against the running API (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/smoke.out"
for what in 'readyz: ready' 'healthz: healthy' 'login: token' 'slots: ' 'openapi: document'; do
  check "smoke-test.sh reports: $what" grep -q "^ok - $what" "$WORK/smoke.out"
done
check "smoke-test.sh ends with '5 passed, 0 failed'" test "$(tail -n 1 "$WORK/smoke.out")" = "5 passed, 0 failed"
check "the smoke password never shows in its output" lacks "$SMOKE_PASSWORD" "$WORK/smoke.out"
live=$(psql "$DATABASE_URL" -Atqc "SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id
  WHERE u.email = '$SMOKE_EMAIL' AND t.revoked_at IS NULL")
check "the smoke token is logged out afterwards ($live live tokens)" test "$live" = 0

# --- failures ---------------------------------------------------------------------------
SMOKE_EMAIL=$SMOKE_EMAIL SMOKE_PASSWORD="wrong-$SMOKE_PASSWORD" "$SMOKE" "$BASE" >"$WORK/bad.out" 2>&1 && rc=0 || rc=$?
check "a wrong smoke password fails the smoke test (exit $rc)" test "$rc" -ne 0
check "... at the login step" grep -q '^not ok - login: HTTP 401' "$WORK/bad.out"
check "... and still checks the OpenAPI document" grep -q '^ok - openapi' "$WORK/bad.out"

env -u SMOKE_EMAIL -u SMOKE_PASSWORD "$SMOKE" "$BASE" >"$WORK/nocreds.out" 2>&1 && rc=0 || rc=$?
check "missing SMOKE_EMAIL/SMOKE_PASSWORD fail the smoke test (exit $rc)" test "$rc" -ne 0

# --- the fleet stopped (the runbook's `stop worker`, beat silent): a deploy or
# rollback in that state must pass; the fleet is reported, not judged.
kill "$WORKER_PID" "$BEAT_PID" 2>/dev/null || true
wait "$WORKER_PID" 2>/dev/null || true; wait "$BEAT_PID" 2>/dev/null || true
WORKER_PID='' BEAT_PID=''
# Age the stopped beat's heartbeat instead of waiting for it to age: no
# loop is left to renew it.
touch -d '5 minutes ago' "$WORK/beat.alive"
"$BIN_DIR/reporterctl" alive --file "$WORK/beat.alive" --max-age 180 >"$WORK/alive.out" 2>&1 && rc=0 || rc=$?
check "reporterctl alive fails once the beat stopped touching its file (exit $rc)" test "$rc" -eq 1
check "... saying the loop is stuck" grep -q 'the loop is stuck' "$WORK/alive.out"
"$BIN_DIR/reporterctl" alive --file "$WORK/nothing.alive" >/dev/null 2>&1 && rc=0 || rc=$?
check "reporterctl alive fails on a missing heartbeat file (exit $rc)" test "$rc" -eq 1
redis-cli -u "$REDIS_TEST_URL" --scan --pattern "rdt-smoke-${ID}*" 2>/dev/null | grep -E 'fleet|worker|beat|tick' \
  | xargs -r redis-cli -u "$REDIS_TEST_URL" del >/dev/null 2>&1 || true
code=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/api/v1/healthz")
diag "healthz with no worker and no beat: HTTP $code"
SMOKE_EMAIL=$SMOKE_EMAIL SMOKE_PASSWORD=$SMOKE_PASSWORD "$SMOKE" "$BASE" >"$WORK/nofleet.out" 2>&1 && rc=0 || rc=$?
check "with workers and beat stopped the smoke test still passes (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/nofleet.out"
check "... reporting the fleet state" grep -qE '^ok - healthz: HTTP [0-9]+, (degraded|unhealthy).*reported, not a deploy failure' "$WORK/nofleet.out"
SMOKE_REQUIRE_HEALTHY=1 SMOKE_EMAIL=$SMOKE_EMAIL SMOKE_PASSWORD=$SMOKE_PASSWORD "$SMOKE" "$BASE" >"$WORK/strict.out" 2>&1 && rc=0 || rc=$?
check "... and SMOKE_REQUIRE_HEALTHY=1 fails it (exit $rc)" test "$rc" -ne 0

kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=''
start=$SECONDS
SMOKE_RETRIES=2 SMOKE_RETRY_DELAY=0.2 SMOKE_EMAIL=x SMOKE_PASSWORD=y "$SMOKE" "$BASE" >"$WORK/down.out" 2>&1 && rc=0 || rc=$?
check "an API that is down fails the smoke test (exit $rc)" test "$rc" -ne 0
check "... saying it is unreachable" grep -q '^not ok - readyz: .* unreachable' "$WORK/down.out"
check "... within the retry budget ($((SECONDS - start))s)" test $((SECONDS - start)) -lt 15

"$SMOKE" >/dev/null 2>&1 && rc=0 || rc=$?
check "no BASE_URL is a usage error (exit $rc)" test "$rc" -eq 2

finish
