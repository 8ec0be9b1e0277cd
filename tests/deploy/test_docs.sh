#!/usr/bin/env bash
# docs/deploy.md, rollback.md, runbook.md and configuration.md stay in step
# with the code: every setting and env.example variable documented, every
# script described, every `reporterctl` subcommand they use exists.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

for d in deploy rollback runbook configuration; do
  check "docs/$d.md exists" test -s "docs/$d.md"
done
[ -s docs/configuration.md ] || finish

settings=$(grep -oE '^\s*s\("[A-Z_]+"' crates/core/src/config/settings_table.rs | grep -oE '[A-Z_]+' || true)
# An empty list (the table moved) would make the next check pass vacuously.
check "found the settings table in crates/core/src/config/settings_table.rs" test "$(wc -w <<<"$settings")" -ge 20
missing=()
for v in $settings $(grep -oE '^[A-Z_][A-Z0-9_]*=' deploy/env.example | tr -d =); do
  grep -q "\`$v\`" docs/configuration.md || missing+=("$v")
done
check "docs/configuration.md documents every setting and env.example variable" test ${#missing[@]} -eq 0
[ ${#missing[@]} -eq 0 ] || diag "missing: ${missing[*]}"

for s in deploy pre-deploy-check backup-db restore-db smoke-test generate-secrets; do
  check "docs/deploy.md describes scripts/$s.sh" grep -q "scripts/$s.sh" docs/deploy.md
done
check "docs/deploy.md has a first deploy and a routine deploy" \
  test "$(grep -cE '^## (First deploy|Routine deploy)' docs/deploy.md)" = 2
for sev in SEV1 SEV2 SEV3; do
  check "docs/rollback.md covers $sev" grep -q "^## $sev" docs/rollback.md
done
check "docs/rollback.md gives the SEV1 command" grep -q 'scripts/deploy.sh rollback --env prod' docs/rollback.md
check "docs/rollback.md says when a restore is right" grep -qi 'restore: when it is, and is not, right' docs/rollback.md
for topic in 'API not starting' 'Migrations failing' 'semaphore stuck' 'Queue growing' 'run late' 'portal changed'; do
  check "docs/runbook.md covers: $topic" grep -qi "^## .*$topic" docs/runbook.md
done

# Subcommands of reporterctl, from its clap enum (CamelCase -> kebab-case).
known=$(sed -n '/^enum Command/,/^}/p' crates/ctl/src/main.rs | grep -oE '^    [A-Z][A-Za-z]*' \
  | sed -E 's/^ +//; s/([a-z])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]' | sort -u)
# Only code: fenced blocks and `inline spans`, not prose.
used=$(python3 - docs/deploy.md docs/rollback.md docs/runbook.md <<'PY' | sort -u
import re, sys
for path in sys.argv[1:]:
    code, fence = [], False
    for line in open(path):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        # shell comments in code blocks are prose too
        code += [re.sub(r"(^|\s)#.*", "", line)] if fence else re.findall(r"`([^`]+)`", line)
    for chunk in code:
        for m in re.finditer(r"\b(?:reporterctl|ctl) ([a-z][a-z-]+)", chunk):
            print(m.group(1))
PY
)
unknown=()
for u in $used; do grep -qx "$u" <<<"$known" || unknown+=("$u"); done
check "every reporterctl subcommand the docs use exists ($(wc -w <<<"$used") used)" test ${#unknown[@]} -eq 0
[ ${#unknown[@]} -eq 0 ] || diag "unknown: ${unknown[*]} (known: $(tr '\n' ' ' <<<"$known"))"

finish
