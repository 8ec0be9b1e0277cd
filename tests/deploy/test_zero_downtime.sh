#!/usr/bin/env bash
# Zero downtime, for real: Caddy (Debian's package) runs deploy/caddy/Caddyfile
# exactly as compose does, with internal TLS, in front of two reporter-api
# processes; a client keeps sending requests over HTTPS through it while
# scripts/api-replicas.sh rolls both replicas (the same sequence deploy.sh runs
# with compose, scripts/lib/rolling.sh) and then rolls them back to the
# "previous release" binary. Asserts 0 failed requests out of at least
# ZD_MIN_REQUESTS (3,000), new processes on both replicas after each roll,
# and the proxy's rules (/metrics not public, HSTS, JSON 404) with the smoke
# test in its behind-the-proxy mode.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

MIN_REQUESTS=${ZD_MIN_REQUESTS:-3000}
if ! pg_up || ! redis_up; then
  not_ok "PostgreSQL ($PG_ADMIN_URL) and Redis ($REDIS_TEST_URL) must be running"
  finish
fi
if ! ensure_tool caddy caddy; then
  not_ok "caddy is not installed and apt-get could not install it"
  finish
fi
if ! ensure_bins reporter-api reporterctl; then
  not_ok "reporter-api and reporterctl are not built and cargo build --bins failed"
  finish
fi

ID=$(rand_id)
WORK=$(mktemp -d)
REPLICAS="$WORK/replicas"
mkdir -p "$REPLICAS"
CADDY_PID='' LOAD_PID=''
cleanup() {
  [ -z "$LOAD_PID" ] || { kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; }
  STOP_TIMEOUT=5 "$ROOT/scripts/api-replicas.sh" stop --dir "$REPLICAS" >/dev/null 2>&1 || true
  [ -z "$CADDY_PID" ] || { kill "$CADDY_PID" 2>/dev/null || true; wait "$CADDY_PID" 2>/dev/null || true; }
  scratch_app_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

export RUST_LOG=warn,reporter_api::shutdown=info
# The production drain (REPORTER_API_DRAIN_SECS default 5 s) is what is tested.
unset REPORTER_API_DRAIN_SECS REPORTER_API_SHUTDOWN_SECS
EMAIL="zd-${ID}@reporter.test"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
scratch_app zd "$ID" >"$WORK/migrate.out" 2>&1 || { not_ok "reporterctl migrate"; finish; }
printf '%s\n' "$PASSWORD" | "$BIN_DIR/reporterctl" user create --email "$EMAIL" >/dev/null 2>&1 \
  || { not_ok "reporterctl user create"; finish; }

# --- two replicas and the proxy, as compose runs them -------------------------------------
PORT_A=$(free_port) PORT_B=$(free_port)
printf 'api-a 127.0.0.1:%s\napi-b 127.0.0.1:%s\n' "$PORT_A" "$PORT_B" >"$REPLICAS/replicas"
# Two "releases": the build, and a copy standing for the previous one.
NEW_BIN="$BIN_DIR/reporter-api"
OLD_BIN="$WORK/reporter-api-previous"
cp "$NEW_BIN" "$OLD_BIN"
export ROLL_POLL=0.2
"$ROOT/scripts/api-replicas.sh" start --dir "$REPLICAS" --bin "$OLD_BIN" >"$WORK/start.out" 2>&1 && rc=0 || rc=$?
check "api-replicas.sh start: both replicas ready (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$WORK/start.out"; tail -n 20 "$REPLICAS"/api-a.log | sed 's/^/#   /'; finish; }

HTTPS_PORT=$(free_port) HTTP_PORT=$(free_port) LOCAL_PORT=$(free_port) ADMIN_PORT=$(free_port)
export XDG_DATA_HOME="$WORK/caddy-data" XDG_CONFIG_HOME="$WORK/caddy-config"
REPORTER_SITE_ADDRESS=localhost REPORTER_TLS_MODE=internal REPORTER_ACME_EMAIL=ops@reporter.test \
  REPORTER_API_UPSTREAMS="127.0.0.1:$PORT_A 127.0.0.1:$PORT_B" \
  REPORTER_PROXY_HTTP_PORT=$HTTP_PORT REPORTER_PROXY_HTTPS_PORT=$HTTPS_PORT \
  REPORTER_PROXY_LOCAL_PORT=$LOCAL_PORT REPORTER_PROXY_ADMIN="127.0.0.1:$ADMIN_PORT" \
  caddy run --config "$ROOT/deploy/caddy/Caddyfile" --adapter caddyfile >"$WORK/caddy.log" 2>&1 &
CADDY_PID=$!
CA="$XDG_DATA_HOME/caddy/pki/authorities/local/root.crt"
BASE="https://localhost:$HTTPS_PORT"
up=0
for _ in $(seq 1 100); do
  if [ -s "$CA" ] && curl -fsS --cacert "$CA" -o /dev/null "$BASE/api/v1/livez" 2>/dev/null; then up=1; break; fi
  kill -0 "$CADDY_PID" 2>/dev/null || break
  sleep 0.2
done
check "caddy serves the API over TLS (its internal CA verified) on $BASE" test "$up" -eq 1
[ "$up" -eq 1 ] || { tail -n 20 "$WORK/caddy.log" | sed 's/^/#   /'; finish; }

# --- the proxy's rules ----------------------------------------------------------------------
code=$(curl -sS --cacert "$CA" -o "$WORK/m.body" -w '%{http_code}' "$BASE/metrics")
check "/metrics through the proxy is 404 (HTTP $code)" test "$code" = 404
check "... with the JSON error shape" grep -q '"code":"not_found"' "$WORK/m.body"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LOCAL_PORT/metrics")
check "/metrics through the host-local listener is 404 too (HTTP $code)" test "$code" = 404
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_A/metrics")
check "/metrics straight from a replica (the internal network) is 200 (HTTP $code)" test "$code" = 200
curl -sS --cacert "$CA" -D "$WORK/h" -o /dev/null "$BASE/api/v1/livez"
check "HSTS on the TLS site" grep -qi '^strict-transport-security: max-age=63072000' "$WORK/h"
check "nosniff on the TLS site" grep -qi '^x-content-type-options: nosniff' "$WORK/h"
check "no Server header" bash -c "! grep -qi '^server:' '$WORK/h'"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://localhost:$HTTP_PORT/api/v1/livez")
check "plain HTTP on the site's port redirects to HTTPS (HTTP $code)" test "$code" = 308
SMOKE_BEHIND_PROXY=1 SMOKE_CURL_OPTS="--cacert $CA" SMOKE_EMAIL=$EMAIL SMOKE_PASSWORD=$PASSWORD \
  "$ROOT/scripts/smoke-test.sh" "$BASE" >"$WORK/smoke.out" 2>&1 && rc=0 || rc=$?
check "smoke-test.sh through the proxy, its rules included (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/smoke.out"
check "... checked /metrics and HSTS" test "$(grep -c '^ok - proxy:' "$WORK/smoke.out")" -eq 2

# --- load during two full rolls: deploy, then rollback ----------------------------------------
TOKEN=$(curl -sS --cacert "$CA" -H 'Content-Type: application/json' \
  --data-binary "$(EMAIL=$EMAIL PASSWORD=$PASSWORD python3 -c 'import json, os; print(json.dumps({"email": os.environ["EMAIL"], "password": os.environ["PASSWORD"]}))')" \
  "$BASE/api/auth/login/" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
STOP="$WORK/load.stop"
LOAD_TOKEN=$TOKEN python3 - "$HTTPS_PORT" "$CA" "$STOP" "$MIN_REQUESTS" >"$WORK/load.json" 2>"$WORK/load.err" <<'PY' &
# A bounded request loop: 8 clients with kept-alive HTTPS connections (as
# browsers and API clients hold them), until told to stop and at least the
# minimum was sent. Every non-2xx answer or transport error is a failure.
import http.client, json, os, ssl, sys, threading, time
port, ca, stop, minimum = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
auth = {"Authorization": "Token " + os.environ["LOAD_TOKEN"]}
paths = [("/api/reporter/slots/", auth), ("/api/v1/livez", {}), ("/api/openapi.json", {}), ("/login", {})]
lock = threading.Lock()
stats = {"sent": 0, "ok": 0, "failed": 0, "failures": [], "reconnects": 0}
def done():
    return os.path.exists(stop) and stats["sent"] >= minimum
def client(n):
    conn = None
    i = n
    while not done():
        path, headers = paths[i % len(paths)]
        i += 1
        try:
            if conn is None:
                conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=15)
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            good, what = 200 <= r.status < 300, f"HTTP {r.status} {path}"
            if r.getheader("Connection", "").lower() == "close":
                conn.close(); conn = None
        except Exception as e:
            good, what = False, f"{type(e).__name__}: {e} {path}"
            if conn is not None:
                conn.close()
            conn = None
            with lock:
                stats["reconnects"] += 1
        with lock:
            stats["sent"] += 1
            if good:
                stats["ok"] += 1
            else:
                stats["failed"] += 1
                if len(stats["failures"]) < 10:
                    stats["failures"].append(f"{time.strftime('%H:%M:%S')} {what}")
threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
start = time.monotonic()
for t in threads: t.start()
while any(t.is_alive() for t in threads):
    time.sleep(0.5)
    with lock:
        sys.stderr.write(f"{stats['sent']}\n"); sys.stderr.flush()
stats["seconds"] = round(time.monotonic() - start, 1)
print(json.dumps(stats))
PY
LOAD_PID=$!
sent_so_far() { tail -n 1 "$WORK/load.err" 2>/dev/null | grep -E '^[0-9]+$' || echo 0; }
for _ in $(seq 1 100); do [ "$(sent_so_far)" -ge 200 ] && break; sleep 0.2; done
pids_before="$(cat "$REPLICAS/api-a.pid") $(cat "$REPLICAS/api-b.pid")"

roll() { # bin label
  local start=$SECONDS rc
  "$ROOT/scripts/api-replicas.sh" roll --dir "$REPLICAS" --bin "$1" >"$WORK/roll-$2.out" 2>&1 && rc=0 || rc=$?
  check "api-replicas.sh roll ($2) replaces both replicas one at a time (exit $rc, $((SECONDS - start))s)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/roll-$2.out"
  diag "$2: $(grep -o 'rolled .*' "$WORK/roll-$2.out" || echo 'no summary')"
}
roll "$NEW_BIN" deploy
pids_mid="$(cat "$REPLICAS/api-a.pid") $(cat "$REPLICAS/api-b.pid")"
check "both replicas are new processes after the deploy roll" \
  python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); sys.exit(any(x == y for x, y in zip(a, b)))' \
  "$pids_before" "$pids_mid"
check "the running replicas run the new binary" \
  bash -c "readlink /proc/\$(cat '$REPLICAS/api-a.pid')/exe | grep -qF '$NEW_BIN' && readlink /proc/\$(cat '$REPLICAS/api-b.pid')/exe | grep -qF '$NEW_BIN'"
roll "$OLD_BIN" rollback
pids_after="$(cat "$REPLICAS/api-a.pid") $(cat "$REPLICAS/api-b.pid")"
check "both replicas are new processes again after the rollback roll" \
  python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); sys.exit(any(x == y for x, y in zip(a, b)))' \
  "$pids_mid" "$pids_after"
check "the rollback runs the previous binary" \
  bash -c "readlink /proc/\$(cat '$REPLICAS/api-a.pid')/exe | grep -qF '$OLD_BIN'"
grep -q 'shutdown requested' "$REPLICAS/api-a.log" && drained=1 || drained=0
check "a replaced replica logged its drain (readyz 503 first)" test "$drained" -eq 1

touch "$STOP"
wait "$LOAD_PID" && rc=0 || rc=$?
LOAD_PID=''
check "the load client ran to the end (exit $rc)" test "$rc" -eq 0
read -r sent okc failed secs < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["sent"], d["ok"], d["failed"], d["seconds"])' "$WORK/load.json" 2>/dev/null || echo "0 0 -1 0")
diag "load: $sent requests in ${secs}s through the proxy across two full rolls: $okc ok, $failed failed"
check "at least $MIN_REQUESTS requests across the rolls ($sent)" test "$sent" -ge "$MIN_REQUESTS"
check "0 failed requests across two full rolls ($failed failed of $sent)" test "$failed" -eq 0
[ "$failed" -eq 0 ] || python3 -c 'import json, sys; [print("#   " + f) for f in json.load(open(sys.argv[1]))["failures"]]' "$WORK/load.json"

"$ROOT/scripts/api-replicas.sh" status --dir "$REPLICAS" >"$WORK/status.out" 2>&1 && rc=0 || rc=$?
check "api-replicas.sh status: both ready (exit $rc)" test "$rc" -eq 0
start=$SECONDS
"$ROOT/scripts/api-replicas.sh" stop --dir "$REPLICAS" >/dev/null 2>&1
check "api-replicas.sh stop ends both replicas within drain + shutdown ($((SECONDS - start))s)" \
  bash -c "! kill -0 $(awk '{print $1}' <<<"$pids_after") 2>/dev/null && ! kill -0 $(awk '{print $2}' <<<"$pids_after") 2>/dev/null"

finish
