#!/usr/bin/env bash
# The scheduled jobs: the systemd units under deploy/systemd (nightly backup,
# weekly restore drill, daily artifact pruning) verify with systemd-analyze,
# their ExecStart scripts exist and accept their arguments, their OnCalendar
# values parse; scripts/prune-artifacts.sh on a directory and through a fake
# compose; .env.bak-* is ignored by git; the docs describe all of it.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
UNITS="$ROOT/deploy/systemd"

# --- 1. the units ------------------------------------------------------------------------
for u in reporter-backup reporter-restore-drill reporter-prune-artifacts; do
  check "deploy/systemd/$u.service and .timer exist" test -s "$UNITS/$u.service" -a -s "$UNITS/$u.timer"
done
quiet() { "$@" >/dev/null 2>&1; }
unit_value() { # file key: the last value of Key= in the file
  awk -v k="$2" 'index($0, k "=") == 1 { v = substr($0, length(k) + 2) } END { print v }' "$1"
}
check "the nightly backup runs at 02:30" test "$(unit_value "$UNITS/reporter-backup.timer" OnCalendar)" = '*-*-* 02:30:00'
check "it keeps 14 nightly backups" grep -q -- '--label nightly --keep 14' "$UNITS/reporter-backup.service"
check "the restore drill runs weekly" grep -qE '^OnCalendar=(Sun|Mon|Tue|Wed|Thu|Fri|Sat) ' "$UNITS/reporter-restore-drill.timer"
check "the drill takes the newest nightly" grep -q -- '--label nightly' "$UNITS/reporter-restore-drill.service"
check "artifact pruning runs daily" grep -qE '^OnCalendar=\*-\*-\* [0-9]{2}:[0-9]{2}:00$' "$UNITS/reporter-prune-artifacts.timer"

# Units point at the checkout in /opt/reporter; here that is $ROOT.
mkdir -p "$WORK/units"
for f in "$UNITS"/*.service "$UNITS"/*.timer; do sed "s|/opt/reporter|$ROOT|g" "$f" >"$WORK/units/$(basename "$f")"; done
mapfile -t unit_files < <(find "$WORK/units" -type f | sort)

verify_ok=0
if ensure_tool systemd-analyze systemd && systemd-analyze --version >/dev/null 2>&1; then
  # A broken unit must fail, or the tool is not really verifying here.
  printf '[Service]\nExecStart=/nonexistent/nothing\nBogusKey=1\n' >"$WORK/broken.service"
  if ! systemd-analyze verify "$WORK/broken.service" >/dev/null 2>&1; then verify_ok=1; fi
fi
if [ "$verify_ok" -eq 1 ]; then
  if out=$(cd "$WORK/units" && systemd-analyze verify "${unit_files[@]}" 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify passes for every unit, without a warning"
  else
    not_ok "systemd-analyze verify"
    printf '%s\n' "$out" | sed 's/^/#   /'
  fi
else
  skip "systemd-analyze verify cannot run here: checking sections and keys with python instead"
  check "every unit has the sections and keys it needs" python3 - "${unit_files[@]}" <<'PY'
import configparser, sys
for path in sys.argv[1:]:
    c = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    c.optionxform = str
    c.read(path)
    if path.endswith(".service"):
        assert c.has_section("Unit") and c.has_section("Service"), path
        assert c.get("Service", "Type") == "oneshot" and c.get("Service", "ExecStart"), path
    else:
        assert c.has_section("Timer") and c.has_section("Install"), path
        assert c.get("Timer", "OnCalendar") and c.get("Timer", "Unit"), path
        assert c.get("Install", "WantedBy") == "timers.target", path
PY
fi

for t in "$UNITS"/*.timer; do
  cal=$(unit_value "$t" OnCalendar)
  if command -v systemd-analyze >/dev/null 2>&1; then
    check "$(basename "$t"): OnCalendar '$cal' parses" quiet systemd-analyze calendar "$cal"
  else
    skip "$(basename "$t"): systemd-analyze calendar is not available"
  fi
  svc=$(unit_value "$t" Unit)
  check "$(basename "$t") starts $svc, which exists" test -f "$UNITS/$svc"
  check "$(basename "$t") is persistent (runs after downtime)" grep -qx 'Persistent=true' "$t"
done
for s in "$WORK"/units/*.service; do
  exec_start=$(unit_value "$s" ExecStart)
  read -ra argv <<<"$exec_start"
  name=$(basename "$s")
  check "$name: ExecStart ${argv[0]#"$ROOT"/} exists and is executable" test -x "${argv[0]}"
  check "$name: ExecStart accepts --help" quiet "${argv[0]}" --help
  # The unit's own arguments followed by --help: an unknown option would exit 2 first.
  "${argv[@]}" --help >/dev/null 2>&1 && rc=0 || rc=$?
  check "$name: the script accepts the unit's arguments (exit $rc)" test "$rc" -eq 0
  check "$name: runs as the deploy user, in the checkout" \
    test "$(unit_value "$s" User):$(unit_value "$s" WorkingDirectory)" = "deploy:$ROOT"
done

# --- 2. prune-artifacts.sh ----------------------------------------------------------------------
PRUNE="$ROOT/scripts/prune-artifacts.sh"
A="$WORK/artifacts"
make_tree() {
  rm -rf "$A"
  mkdir -p "$A/run-1/user-1/range-1" "$A/run-2/user-2/range-download" "$A/run-3/user-3/range-3" "$A/run-4/user-4"
  printf 'old png' >"$A/run-1/user-1/range-1/step-20260101T000000.000Z.png"
  printf 'old html' >"$A/run-1/user-1/range-1/step-20260101T000000.000Z.html"
  printf 'mid' >"$A/run-2/user-2/range-download/login-x.png"
  printf 'new' >"$A/run-3/user-3/range-3/fresh.png"
  touch -d '40 days ago' "$A/run-1/user-1/range-1/"*
  touch -d '10 days ago' "$A/run-2/user-2/range-download/login-x.png"
  # An empty directory left long ago; run-3 holds a fresh file; run-4 was just created.
  mkdir -p "$A/old-empty/sub" && touch -d '40 days ago' "$A/old-empty/sub" "$A/old-empty"
}
make_tree
"$PRUNE" --dir "$A" --dry-run >"$WORK/dry.out" 2>&1 && rc=0 || rc=$?
check "prune-artifacts.sh --dry-run succeeds (exit $rc)" test "$rc" -eq 0
check "--dry-run lists the files older than 30 days (default)" \
  test "$(grep -c '^would delete: .*run-1/user-1/range-1/step-' "$WORK/dry.out")" = 2
check "--dry-run names nothing newer" lacks 'login-x.png' "$WORK/dry.out"
check "--dry-run deletes nothing" test "$(find "$A" -type f | wc -l)" = 4
check "--dry-run says how much" grep -q '^would delete 2 files' "$WORK/dry.out"
"$PRUNE" --dir "$A" >"$WORK/run.out" 2>&1 && rc=0 || rc=$?
check "prune-artifacts.sh deletes (exit $rc) the files older than 30 days" \
  test "$rc:$(find "$A" -name 'step-*' | wc -l)" = 0:0
check "... and keeps the newer ones" test -f "$A/run-2/user-2/range-download/login-x.png" -a -f "$A/run-3/user-3/range-3/fresh.png"
check "... removes directories empty for long" test ! -e "$A/old-empty"
check "... but not one a worker may have just created" test -d "$A/run-4/user-4"
check "... and reports it" grep -q '^deleted 2 files' "$WORK/run.out"
ARTIFACT_RETENTION_DAYS=5 "$PRUNE" --dir "$A" >/dev/null 2>&1
check "ARTIFACT_RETENTION_DAYS=5 deletes the 10-day-old file" test ! -e "$A/run-2/user-2/range-download/login-x.png"
check "... not today's" test -f "$A/run-3/user-3/range-3/fresh.png"
"$PRUNE" --dir "$A" --days 0 >/dev/null 2>&1 && rc=0 || rc=$?
check "--days 0 is refused (exit $rc)" test "$rc" -eq 2
"$PRUNE" --dir "$WORK/nope" >/dev/null 2>&1 && rc=0 || rc=$?
check "a missing directory is an error (exit $rc)" test "$rc" -eq 1
"$PRUNE" >/dev/null 2>&1 && rc=0 || rc=$?
check "no --dir nor --compose-file is a usage error (exit $rc)" test "$rc" -eq 2
"$PRUNE" --no-such-option >/dev/null 2>&1 && rc=0 || rc=$?
check "an unknown option is a usage error (exit $rc)" test "$rc" -eq 2

# Compose mode, with a fake docker that records its arguments and runs the
# `exec -T worker sh -c SCRIPT sh PATH ...` locally, with PATH mapped to $A.
make_tree
mkdir -p "$WORK/bin"
cat >"$WORK/bin/docker" <<'FAKE'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_DOCKER_LOG"
while [ $# -gt 0 ] && [ "$1" != exec ]; do shift; done
[ "${1:-}" = exec ] || exit 1
shift 2 # exec -T
[ "$1" = worker ] || exit 1
shift
[ "$1" = sh ] && [ "$2" = -c ] || exit 1
script=$3 path=$5; shift 5
[ "$path" = /data/artifacts ] || exit 1
exec sh -c "$script" sh "$FAKE_ARTIFACTS" "$@"
FAKE
chmod +x "$WORK/bin/docker"
printf 'ARTIFACT_RETENTION_DAYS=5\n' >"$WORK/test.env"
PATH="$WORK/bin:$PATH" FAKE_DOCKER_LOG="$WORK/docker.log" FAKE_ARTIFACTS="$A" COMPOSE='docker compose' \
  "$PRUNE" --compose-file compose.prod.yml --env-file "$WORK/test.env" >"$WORK/c.out" 2>&1 && rc=0 || rc=$?
check "compose mode runs find in the worker container (exit $rc)" \
  grep -q "compose -f compose.prod.yml --env-file $WORK/test.env exec -T worker sh -c" "$WORK/docker.log"
check "... with ARTIFACT_RETENTION_DAYS from the env file (5 days: 3 files deleted)" \
  test "$rc:$(find "$A" -type f | wc -l)" = 0:1
PATH="$WORK/bin:$PATH" FAKE_DOCKER_LOG="$WORK/docker.log" FAKE_ARTIFACTS="$WORK/nope" COMPOSE='docker compose' \
  "$PRUNE" --compose-file compose.prod.yml --env-file "$WORK/test.env" >"$WORK/c2.out" 2>&1 && rc=0 || rc=$?
check "compose mode reports a failure (exit $rc)" test "$rc" -eq 1

# --- 3. the other new scripts ---------------------------------------------------------------------
for s in restore-drill prune-artifacts; do
  out=$("scripts/$s.sh" --help 2>&1) && rc=0 || rc=$?
  check "scripts/$s.sh --help (exit $rc)" test "$rc" -eq 0 -a "$(printf '%s\n' "$out" | wc -l)" -ge 3
  check "scripts/$s.sh runs with set -euo pipefail" grep -q '^set -euo pipefail$' "scripts/$s.sh"
  "scripts/$s.sh" --no-such-option >/dev/null 2>&1 && rc=0 || rc=$?
  check "scripts/$s.sh rejects an unknown option with exit 2" test "$rc" -eq 2
done

# --- 4. .env.bak-* ------------------------------------------------------------------------------------
# generate-secrets.sh --force keeps the old file as <output>.bak-<UTC stamp>.
# shellcheck disable=SC2016 # the literal text of the script
check "generate-secrets.sh names its backups <file>.bak-<stamp>" grep -q 'backup="$OUTPUT.bak-$(utc_stamp)"' scripts/generate-secrets.sh
check ".env.bak-<stamp> is ignored by git" git check-ignore -q --no-index ".env.bak-$(date -u +%Y%m%dT%H%M%SZ)"
check "... in a subdirectory too" git check-ignore -q --no-index "deploy/.env.bak-20260101T000000Z"
check ".env.example files are not ignored" bash -c '! git check-ignore -q --no-index deploy/env.example'
# The real thing: generate-secrets --force in a copy of the repository root.
SB="$WORK/repo"
make_sandbox "$SB"
cp .gitignore "$SB/"
git -C "$SB" init -q
"$SB/scripts/generate-secrets.sh" --template "$SB/deploy/env.example" --output "$SB/.env" >/dev/null 2>&1
"$SB/scripts/generate-secrets.sh" --template "$SB/deploy/env.example" --output "$SB/.env" --force >/dev/null 2>&1
bak=$(cd "$SB" && find . -maxdepth 1 -name '.env.bak-*' | head -n 1)
check "generate-secrets.sh --force made ${bak:-no backup}, which git status does not show" \
  test -n "$bak" -a -z "$(git -C "$SB" status --porcelain --untracked-files=all -- "$bak")"

# --- 5. docs ---------------------------------------------------------------------------------------------
check "docs/deploy.md has a \"Backups and scheduled jobs\" section" grep -q '^## Backups and scheduled jobs' docs/deploy.md
for u in reporter-backup.timer reporter-restore-drill.timer reporter-prune-artifacts.timer; do
  check "docs/deploy.md says how to install $u" grep -q "$u" docs/deploy.md
done
for s in restore-drill prune-artifacts; do
  check "docs/deploy.md describes scripts/$s.sh" grep -q "scripts/$s.sh" docs/deploy.md
done
check "docs/runbook.md has a Backups section" grep -q '^## Backups' docs/runbook.md
check "docs/runbook.md tells how to run the drill" grep -q 'scripts/restore-drill.sh' docs/runbook.md
check "docs/rollback.md tells how to put a Redis RDB back" grep -q 'appendonly' docs/rollback.md
for v in BACKUP_AGE_RECIPIENT BACKUP_AGE_IDENTITY BACKUP_METRICS_DIR ARTIFACT_RETENTION_DAYS; do
  check "$v is in deploy/env.example and docs/configuration.md" \
    bash -c "grep -q '^$v=' deploy/env.example && grep -q '\`$v\`' docs/configuration.md"
done

finish
