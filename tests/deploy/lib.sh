# shellcheck shell=bash
# Helpers for tests/deploy/test_*.sh: TAP-like output, tool installs,
# scratch databases, a sandbox copy of the deploy files, free ports.
# Sourced by each test file after `set -euo pipefail`.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export REDIS_TEST_URL="${REDIS_TEST_URL:-redis://127.0.0.1:6379}"
BIN_DIR="${REPORTER_BIN_DIR:-$ROOT/target/debug}"

T_PASSED=0 T_FAILED=0 T_SKIPPED=0
ok() { printf 'ok - %s\n' "$*"; T_PASSED=$((T_PASSED + 1)); }
not_ok() { printf 'not ok - %s\n' "$*"; T_FAILED=$((T_FAILED + 1)); }
skip() { printf 'skip - %s\n' "$*"; T_SKIPPED=$((T_SKIPPED + 1)); }
diag() { printf '#   %s\n' "$@"; }
# check "description" command...: ok when the command succeeds.
check() {
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# lacks TEXT FILE: the file does not contain the text (e.g. a secret).
lacks() { ! grep -qF -- "$1" "$2"; }
# Prints the summary line and exits with the verdict. Call last.
finish() {
  [ "$T_SKIPPED" -eq 0 ] || printf '# %d skipped\n' "$T_SKIPPED"
  printf '%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
  [ "$T_FAILED" -eq 0 ] && exit 0
  exit 1
}

rand_id() { python3 -c 'import secrets; print(secrets.token_hex(4))'; }

# --- tools ------------------------------------------------------------------------
APT_UPDATED=0
apt_install() { # packages...
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=''
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if [ "$APT_UPDATED" -eq 0 ]; then
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1 || return 1
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}
# ensure_tool command [apt package]: installs only when the command is absent.
ensure_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  printf '# installing %s with apt-get\n' "${2:-$1}" >&2
  apt_install "${2:-$1}" && command -v "$1" >/dev/null 2>&1
}
# Sets PY to a python3 that can import yaml (PyYAML), installing
# python3-yaml with apt-get when no python has it.
ensure_pyyaml() {
  local p
  export PY=''
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then PY=$p; return 0; fi
  done
  printf '# installing python3-yaml with apt-get\n' >&2
  apt_install python3-yaml && /usr/bin/python3 -c 'import yaml' 2>/dev/null && PY=/usr/bin/python3
}

# --- services ------------------------------------------------------------------------
pg_up() { psql "$PG_ADMIN_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; }
redis_up() { redis-cli -u "$REDIS_TEST_URL" ping 2>/dev/null | grep -q PONG; }
db_url() { printf '%s/%s' "${PG_ADMIN_URL%/*}" "$1"; }
create_db() { psql "$PG_ADMIN_URL" -qc "CREATE DATABASE \"$1\"" >/dev/null; }
drop_db() { psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true; }
# Drops every database whose name starts with the prefix.
drop_dbs_like() {
  local d
  for d in $(psql "$PG_ADMIN_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE '${1}%'" 2>/dev/null); do
    drop_db "$d"
  done
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The debug binaries; built once when missing (REPORTER_BIN_DIR overrides).
ensure_bins() { # names...
  local b missing=0
  for b in "$@"; do [ -x "$BIN_DIR/$b" ] || missing=1; done
  [ "$missing" -eq 0 ] && return 0
  [ "$BIN_DIR" = "$ROOT/target/debug" ] || return 1
  printf '# building the debug binaries (cargo build --bins)\n' >&2
  (cd "$ROOT" && cargo build --bins --quiet) >&2 || return 1
  for b in "$@"; do [ -x "$BIN_DIR/$b" ] || return 1; done
}

# --- sandbox -----------------------------------------------------------------------------
# A copy of what the deploy scripts need, so tests can write .env, state and
# backups without touching the repository.
make_sandbox() { # dir
  local sb=$1
  mkdir -p "$sb"
  cp -R "$ROOT/scripts" "$ROOT/deploy" "$ROOT/migrations" "$sb/"
  cp "$ROOT"/compose.prod.yml "$ROOT"/compose.staging.yml "$ROOT"/.squawk.toml "$sb/"
}

# Writes a complete, valid env file (fresh secrets, no placeholder left).
write_good_env() { # file [KEY=VALUE overrides...]
  local file=$1; shift
  rm -f "$file"
  "$ROOT/scripts/generate-secrets.sh" --template "$ROOT/deploy/env.example" --output "$file" 2>/dev/null
  set_env_var "$file" REPORTER_IMAGE registry.test/reporter
  set_env_var "$file" REPORTER_PORTAL_URL https://portal.test
  set_env_var "$file" SMOKE_EMAIL smoke@reporter.test
  set_env_var "$file" REPORTER_SITE_ADDRESS reporter.test
  set_env_var "$file" REPORTER_ACME_EMAIL ops@reporter.test
  local kv
  for kv in "$@"; do set_env_var "$file" "${kv%%=*}" "${kv#*=}"; done
  chmod 600 "$file"
}
# Replaces (or appends) KEY=VALUE in an env file. The value goes through the
# environment, not awk's argv.
set_env_var() { # file key value
  local tmp
  tmp=$(mktemp)
  K=$2 V=$3 awk 'BEGIN { k = ENVIRON["K"]; v = ENVIRON["V"] }
    index($0, k "=") == 1 { print k "=" v; done = 1; next } { print }
    END { if (!done) print k "=" v }' "$1" >"$tmp"
  cat "$tmp" >"$1"
  rm -f "$tmp"
}
env_value() { # file key
  awk -v k="$2" 'index($0, k "=") == 1 { print substr($0, length(k) + 2) }' "$1" | tail -n 1
}

# --- a scratch application ------------------------------------------------------------------
# scratch_app NAME ID: the settings of a throwaway Reporter, exported for the
# processes a test starts: a database rdt_NAME_ID (created, then migrated by
# reporterctl: its output is this function's), the Redis prefix rdt-NAME-ID,
# a fresh credentials key, LOG_FORMAT=text and RUST_LOG (default warn).
# scratch_app_cleanup drops both; call it from the test's EXIT trap.
scratch_app() { # name id
  SCRATCH_DB="rdt_${1}_${2}" SCRATCH_PREFIX="rdt-${1}-${2}"
  create_db "$SCRATCH_DB" || return 1
  DATABASE_URL=$(db_url "$SCRATCH_DB")
  REPORTER_CREDENTIALS_KEY=$(head -c 32 /dev/urandom | base64)
  REDIS_URL=$REDIS_TEST_URL REPORTER_REDIS_PREFIX=$SCRATCH_PREFIX LOG_FORMAT=text RUST_LOG=${RUST_LOG:-warn}
  export DATABASE_URL REPORTER_CREDENTIALS_KEY REDIS_URL REPORTER_REDIS_PREFIX LOG_FORMAT RUST_LOG
  "$BIN_DIR/reporterctl" migrate
}
scratch_app_cleanup() {
  [ -n "${SCRATCH_DB:-}" ] || return 0
  drop_db "$SCRATCH_DB"
  redis-cli -u "$REDIS_TEST_URL" --scan --pattern "${SCRATCH_PREFIX}*" 2>/dev/null \
    | xargs -r redis-cli -u "$REDIS_TEST_URL" del >/dev/null 2>&1 || true
}

# wait_http URL PID: 0 once URL answers 2xx (at most 30 s), 1 when the
# process PID exits first or time runs out.
wait_http() { # url pid
  local _
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
