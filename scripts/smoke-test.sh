#!/usr/bin/env bash
# Post-deploy smoke test of a running Reporter API: what a deploy changes (the
# API's code and its own dependencies), not the fleet. Read-only apart from
# one login (the token is logged out at the end).
#   1. GET  /api/v1/readyz      answers 200 "ready": this API reaches PostgreSQL
#                               and Redis (retried while the API starts)
#   2. GET  /api/v1/healthz     the fleet (workers alive, schedule fresh) is
#                               reported, never a failure: a deploy or rollback
#                               while workers are stopped or beat is silent must
#                               pass (monitoring alerts on those instead), unless
#                               SMOKE_REQUIRE_HEALTHY=1
#   3. POST /api/auth/login/    with the smoke account gives a token
#   4. GET  /api/reporter/slots/ answers a non-empty JSON array whose objects
#                               have id, hour, hour_label, used_points,
#                               capacity_points, available, max_users, current_users
#   5. GET  /api/openapi.json   is an OpenAPI document listing the health path
#   6. with SMOKE_BEHIND_PROXY=1 (BASE_URL is the proxy): /metrics is not
#                               public (404), and an https BASE_URL sends HSTS
#
#   SMOKE_EMAIL=... SMOKE_PASSWORD=... scripts/smoke-test.sh BASE_URL
#   e.g. scripts/smoke-test.sh http://127.0.0.1:8000
#
# Environment:
#   SMOKE_EMAIL, SMOKE_PASSWORD   the smoke account (create it once with
#                                 `reporterctl user create`); never printed
#   SMOKE_RETRIES                 readyz attempts before giving up (default 15)
#   SMOKE_RETRY_DELAY             seconds between them (default 2)
#   SMOKE_REQUIRE_HEALTHY=1       fail unless healthz says "healthy"
#   SMOKE_BEHIND_PROXY=1          also check the proxy's rules (step 6)
#   SMOKE_CURL_OPTS               extra curl options, e.g. "--cacert FILE"
#   SMOKE_TIMEOUT                 seconds per request (default 10)
# Needs curl and python3 (JSON). Prints ok/not ok per check; exit 0 only when
# every check passed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"

case "${1:-}" in
  -h | --help) print_help "$0"; exit 0 ;;
  '') usage_error "BASE_URL is required, e.g. http://127.0.0.1:8000" ;;
esac
[ $# -eq 1 ] || usage_error "one BASE_URL only"
BASE=${1%/}
[[ $BASE =~ ^https?://[^[:space:]]+$ ]] || usage_error "BASE_URL must be an http:// or https:// URL"
need_cmd curl
need_cmd python3
RETRIES=${SMOKE_RETRIES:-15}
DELAY=${SMOKE_RETRY_DELAY:-2}
TIMEOUT=${SMOKE_TIMEOUT:-10}
read -ra CURL_OPTS <<<"${SMOKE_CURL_OPTS:-}"

WORK=$(mktemp -d)
chmod 700 "$WORK"
TOKEN_HEADER="$WORK/auth-header"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  # Log the smoke token out so runs do not pile up live tokens.
  if [ -s "$TOKEN_HEADER" ]; then
    curl -sS "${CURL_OPTS[@]}" -o /dev/null --max-time "$TIMEOUT" -X POST -H @"$TOKEN_HEADER" "$BASE/api/auth/logout/" || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
ok() { printf 'ok - %s\n' "$*"; passed=$((passed + 1)); }
not_ok() { printf 'not ok - %s\n' "$*"; failed=$((failed + 1)); }
finish() {
  printf '%d passed, %d failed\n' "$passed" "$failed"
  if [ "$failed" -eq 0 ]; then exit 0; fi
  exit 1
}

# GET/POST helper: writes the body to $WORK/body, prints the HTTP status
# (000 when the server could not be reached).
http() { # method path [curl args...]
  local method=$1 path=$2; shift 2
  curl -sS "${CURL_OPTS[@]}" -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' --max-time "$TIMEOUT" \
    -X "$method" "$@" "$BASE$path" 2>"$WORK/curl-err" || true
}

# Runs a python check on $WORK/body; prints its one-line verdict.
json_check() { # python-source
  python3 -c "$1" "$WORK/body" 2>&1 | tail -n 1
}

# --- 1. readyz ----------------------------------------------------------------
status=''
for attempt in $(seq 1 "$RETRIES"); do
  status=$(http GET /api/v1/readyz)
  [ "$status" != 200 ] || break
  [ "$attempt" -eq "$RETRIES" ] || sleep "$DELAY"
done
if [ "$status" = 200 ]; then
  ok "readyz: ready (database and Redis reachable)"
elif [ "$status" = 000 ]; then
  not_ok "readyz: $BASE unreachable after $RETRIES attempts ($(head -c 200 "$WORK/curl-err"))"
  finish
else
  not_ok "readyz: HTTP $status after $RETRIES attempts: $(head -c 300 "$WORK/body")"
fi

# --- 2. healthz: the fleet, reported -------------------------------------------
status=$(http GET /api/v1/healthz)
verdict=$(json_check 'import json, sys
d = json.load(open(sys.argv[1]))
bad = [k for k, v in (d.get("checks") or {}).items() if isinstance(v, dict) and v.get("status") != "healthy"]
print(d.get("status", "?") + (" (" + ", ".join(bad) + ")" if bad else ""))') || verdict='unknown'
if [ "$status" = 200 ] && [[ $verdict == healthy* ]]; then
  ok "healthz: healthy"
elif [ "${SMOKE_REQUIRE_HEALTHY:-0}" = 1 ]; then
  not_ok "healthz: HTTP $status, $verdict (SMOKE_REQUIRE_HEALTHY=1)"
else
  ok "healthz: HTTP $status, $verdict (fleet state: reported, not a deploy failure)"
fi

# --- 3. login ---------------------------------------------------------------------
if [ -z "${SMOKE_EMAIL:-}" ] || [ -z "${SMOKE_PASSWORD:-}" ]; then
  not_ok "login: SMOKE_EMAIL and SMOKE_PASSWORD must be set"
else
  # The JSON body is built from the environment and sent on stdin: the
  # password is in no command line.
  status=$(python3 -c 'import json, os, sys
json.dump({"email": os.environ["SMOKE_EMAIL"], "password": os.environ["SMOKE_PASSWORD"]}, sys.stdout)' \
    | http POST /api/auth/login/ -H 'Content-Type: application/json' --data-binary @-)
  if [ "$status" = 200 ]; then
    token=$(json_check 'import json, sys; t = json.load(open(sys.argv[1])).get("token"); print(t if isinstance(t, str) and t else "")') || true
    if [ -n "$token" ] && [[ $token =~ ^[A-Za-z0-9._~+/=-]+$ ]]; then
      printf 'Authorization: Token %s\n' "$token" >"$TOKEN_HEADER"
      ok "login: token for the smoke account"
    else
      not_ok "login: HTTP 200 but no token in the answer"
    fi
    unset token
  else
    not_ok "login: HTTP $status (is the smoke account created, with SMOKE_PASSWORD?)"
  fi
fi

# --- 4. slots -------------------------------------------------------------------------
if [ -s "$TOKEN_HEADER" ]; then
  status=$(http GET /api/reporter/slots/ -H @"$TOKEN_HEADER")
  if [ "$status" = 200 ]; then
    verdict=$(json_check '
import json, sys
want = {"id": int, "hour": int, "hour_label": str, "used_points": int, "capacity_points": int,
        "available": int, "max_users": int, "current_users": int}
try:
    slots = json.load(open(sys.argv[1]))
except ValueError:
    print("not JSON"); sys.exit()
if not isinstance(slots, list) or not slots:
    print("expected a non-empty array"); sys.exit()
for i, s in enumerate(slots):
    if not isinstance(s, dict):
        print(f"item {i} is not an object"); sys.exit()
    for k, t in want.items():
        if k not in s:
            print(f"item {i} lacks {k}"); sys.exit()
        if not isinstance(s[k], t) or isinstance(s[k], bool):
            print(f"item {i}: {k} is not {t.__name__}"); sys.exit()
print(f"ok {len(slots)}")') || true
    if [[ $verdict == ok* ]]; then
      ok "slots: ${verdict#ok } slots with the expected fields"
    else
      not_ok "slots: $verdict"
    fi
  else
    not_ok "slots: HTTP $status"
  fi
else
  not_ok "slots: skipped, no token"
fi

# --- 5. OpenAPI -------------------------------------------------------------------------
status=$(http GET /api/openapi.json)
if [ "$status" = 200 ]; then
  verdict=$(json_check '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("not JSON"); sys.exit()
if not isinstance(d, dict) or not str(d.get("openapi", "")).startswith("3"):
    print("no openapi 3.x version field"); sys.exit()
paths = d.get("paths") or {}
if "/api/v1/healthz" not in paths:
    print("paths lack /api/v1/healthz"); sys.exit()
print(f"ok {len(paths)}")') || true
  if [[ $verdict == ok* ]]; then
    ok "openapi: document with ${verdict#ok } paths"
  else
    not_ok "openapi: $verdict"
  fi
else
  not_ok "openapi: HTTP $status"
fi


# --- 6. the proxy's rules ----------------------------------------------------------
if [ "${SMOKE_BEHIND_PROXY:-0}" = 1 ]; then
  status=$(http GET /metrics)
  if [ "$status" = 404 ]; then
    ok "proxy: /metrics is not public"
  else
    not_ok "proxy: /metrics answers HTTP $status through $BASE (must be 404)"
  fi
  if [[ $BASE == https://* ]]; then
    if grep -qi '^strict-transport-security: max-age=[1-9]' "$WORK/headers"; then
      ok "proxy: HSTS header"
    else
      not_ok "proxy: no Strict-Transport-Security header over https"
    fi
  fi
fi

finish
