# shellcheck shell=bash
# ensure_schemathesis: sets ST to a schemathesis CLI of the pinned version,
# installing it from PyPI into target/venv-schemathesis when it is missing.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local root venv
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  venv="$root/target/venv-schemathesis"
  ST="$venv/bin/st"
  export ST
  if [ -x "$ST" ] && "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    return 0
  fi
  printf '# installing schemathesis %s into %s\n' "$SCHEMATHESIS_VERSION" "$venv" >&2
  python3 -m venv "$venv" >/dev/null 2>&1 || { command -v apt-get >/dev/null && apt-get install -y -qq python3-venv >/dev/null 2>&1 && python3 -m venv "$venv"; } || return 1
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 && [ -x "$ST" ]
}
