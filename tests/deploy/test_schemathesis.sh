#!/usr/bin/env bash
# schemathesis (`--checks all`) against a real reporter-api: a scratch
# database migrated by reporterctl, an admin and a customer with tokens, a
# unique Redis prefix, a free loopback port. One bounded run per role
# (SCHEMATHESIS_EXAMPLES examples per operation, SCHEMATHESIS_MAX_TIME
# seconds each); fails on any server error, schema violation or
# undocumented status. The summary numbers are printed as diagnostics.
# Relaxations, with their reasons, are in tests/deploy/schemathesis.toml.
# shellcheck disable=SC2317 # cleanup is called through the trap
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/schemathesis.sh
source "$ROOT/scripts/lib/schemathesis.sh"

EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-60}

if ! pg_up || ! redis_up; then
  not_ok "PostgreSQL ($PG_ADMIN_URL) and Redis ($REDIS_TEST_URL) must be running"
  finish
fi
if ! ensure_bins reporter-api reporterctl; then
  not_ok "reporter-api and reporterctl are not built and cargo build --bins failed"
  finish
fi
if ! ensure_schemathesis; then
  not_ok "schemathesis $SCHEMATHESIS_VERSION could not be installed into target/venv-schemathesis"
  finish
fi

ID=$(rand_id)
PORT=$(free_port)
WORK=$(mktemp -d)
API_PID=''
cleanup() {
  if [ -n "$API_PID" ]; then kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; fi
  scratch_app_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

export REPORTER_API_BIND="127.0.0.1:$PORT" REPORTER_API_DRAIN_SECS=0
scratch_app st "$ID" >"$WORK/migrate.out" 2>&1 && rc=0 || rc=$?
check "reporterctl migrate on the scratch database" test "$rc" -eq 0
pw() { python3 -c 'import secrets; print(secrets.token_urlsafe(18))'; }
pw | "$BIN_DIR/reporterctl" user create --email "ops-${ID}@reporter.test" --admin >/dev/null 2>&1
pw | "$BIN_DIR/reporterctl" user create --email "ana-${ID}@reporter.test" --monthly-orders 3000 >/dev/null 2>&1
ADMIN_TOKEN=$("$BIN_DIR/reporterctl" token create --email "ops-${ID}@reporter.test" 2>/dev/null | head -n 1)
CUSTOMER_TOKEN=$("$BIN_DIR/reporterctl" token create --email "ana-${ID}@reporter.test" 2>/dev/null | head -n 1)
check "an admin and a customer with tokens" test -n "$ADMIN_TOKEN" -a -n "$CUSTOMER_TOKEN"

"$BIN_DIR/reporter-api" >"$WORK/api.log" 2>&1 &
API_PID=$!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/api/v1/livez" "$API_PID" && up=1 || up=0
check "reporter-api starts on $REPORTER_API_BIND" test "$up" -eq 1
if [ "$up" -ne 1 ]; then tail -n 20 "$WORK/api.log" | sed 's/^/#   /'; finish; fi

# Logout is left out: it would revoke the token the run authenticates with.
for role in admin customer; do
  if [ "$role" = admin ]; then token=$ADMIN_TOKEN; else token=$CUSTOMER_TOKEN; fi
  start=$(date +%s)
  # From $WORK: schemathesis keeps its example database in ./.schemathesis.
  (cd "$WORK" && "$ST" --config-file "$ROOT/tests/deploy/schemathesis.toml" run "$BASE/api/openapi.json" \
    --checks all --header "Authorization: Token $token" \
    --exclude-path /api/auth/logout/ \
    --max-examples "$EXAMPLES" --max-time "$MAX_TIME" --workers 2 --seed 13 \
    --no-color --output-sanitize true) >"$WORK/st-$role.out" 2>&1 && rc=0 || rc=$?
  took=$(($(date +%s) - start))
  cases=$(grep -E '^\s+[0-9]+ generated' "$WORK/st-$role.out" | tail -n 1 | sed 's/^ *//')
  summary=$(tail -n 1 "$WORK/st-$role.out" | tr -d '=' | sed 's/^ *//; s/ *$//')
  diag "$role: ${cases:-no cases}; $summary; ${took}s"
  check "schemathesis as $role: no server error, schema violation or undocumented status (exit $rc)" \
    test "$rc" -eq 0
  if [ "$rc" -ne 0 ]; then
    grep -E '^_+ |^\[[0-9]{3}\]|^    `|^- |Failures:|❌' "$WORK/st-$role.out" | head -n 60 | sed 's/^/#   /'
  fi
done
check "reporter-api is still up after the runs" kill -0 "$API_PID"
panics=$(grep -c 'panicked' "$WORK/api.log" || true)
check "no panic in the API log ($panics)" test "$panics" -eq 0
finish
