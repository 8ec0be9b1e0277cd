#!/usr/bin/env bash
# Runs shellcheck (every severity) on every shell script under scripts/ and
# tests/deploy/, then checks --help, strict mode and usage errors of every deploy script.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if ! ensure_tool shellcheck; then
  not_ok "shellcheck is not installed and apt-get could not install it"
  finish
fi

mapfile -t scripts < <(
  { find scripts tests/deploy -type f -name '*.sh'; find scripts -type f -perm -u+x ! -name '*.*'; } | sort -u
)
for f in "${scripts[@]}"; do
  # -x follows `source`; paths in `# shellcheck source=` are relative to the root.
  if out=$(shellcheck -x "$f" 2>&1); then
    ok "shellcheck $f"
  else
    not_ok "shellcheck $f"
    printf '%s\n' "$out" | sed 's/^/#   /' | head -n 40
  fi
done

for s in deploy generate-secrets pre-deploy-check backup-db restore-db smoke-test restore-drill prune-artifacts api-replicas; do
  out=$("scripts/$s.sh" --help 2>&1) && rc=0 || rc=$?
  if [ "$rc" -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -ge 3 ]; then
    ok "scripts/$s.sh --help"
  else
    not_ok "scripts/$s.sh --help (exit $rc)"
  fi
  check "scripts/$s.sh runs with set -euo pipefail" grep -q '^set -euo pipefail$' "scripts/$s.sh"
  # A wrong argument is a usage error (exit 2), never a half-run.
  "scripts/$s.sh" --no-such-option >/dev/null 2>&1 && rc=0 || rc=$?
  check "scripts/$s.sh rejects an unknown option with exit 2" test "$rc" -eq 2
done
check "tests/deploy/run.sh --help" bash -c "tests/deploy/run.sh --help | grep -q 'passed'"

finish
