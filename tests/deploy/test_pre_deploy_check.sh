#!/usr/bin/env bash
# scripts/pre-deploy-check.sh: fails, listing every problem and no secret,
# on a bad env file; passes on a good one whose database (a scratch one on the
# local PostgreSQL, migrated) and Redis are reachable, with the real
# reporterctl; catches pending and destructive migrations (through
# scripts/ci/lint-migrations.sh: squawk and the additive checks) and bad tags;
# a squawk that cannot be had fails the check unless --skip-migration-lint.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

if ! pg_up || ! redis_up; then
  not_ok "PostgreSQL ($PG_ADMIN_URL) and Redis ($REDIS_TEST_URL) must be running"
  finish
fi
if ! ensure_bins reporterctl; then
  not_ok "reporterctl is not built and cargo build --bins failed"
  finish
fi

ID=$(rand_id)
DB="rdt_pdc_${ID}" DB_EMPTY="rdt_pdc_${ID}_empty"
WORK=$(mktemp -d)
cleanup() { drop_dbs_like "rdt_pdc_${ID}"; rm -rf "$WORK"; }
trap cleanup EXIT
SB="$WORK/repo"
make_sandbox "$SB"
CHECK="$SB/scripts/pre-deploy-check.sh"

# Docker stand-ins: one with no engine, one with every image.
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexit 1\n' >"$WORK/bin/docker-down"
printf '#!/bin/sh\nexit 0\n' >"$WORK/bin/docker-all"
chmod +x "$WORK/bin/docker-down" "$WORK/bin/docker-all"
export DOCKER="$WORK/bin/docker-down"
export REPORTERCTL="$BIN_DIR/reporterctl"
unset COMPOSE

create_db "$DB"
create_db "$DB_EMPTY"
DATABASE_URL=$(db_url "$DB") REDIS_URL=$REDIS_TEST_URL REPORTER_CREDENTIALS_KEY=$(head -c 32 /dev/urandom | base64) \
  "$BIN_DIR/reporterctl" migrate >/dev/null 2>&1
GOOD="$WORK/good.env"
write_good_env "$GOOD" "DATABASE_URL=$(db_url "$DB")" "REDIS_URL=$REDIS_TEST_URL" \
  "REPORTER_REDIS_PREFIX=rdt-pdc-$ID" LOG_FORMAT=text

run_check() { # env-file [args...]: output in $WORK/out, exit status in $rc
  local f=$1; shift
  "$CHECK" --env-file "$f" "$@" >"$WORK/out" 2>&1 && rc=0 || rc=$?
}

# --- a good env file --------------------------------------------------------------------
run_check "$GOOD" --tag v1.2.3
check "a good env file passes (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/out"
for line in 'every variable of deploy/env.example is set' 'POSTGRES_PASSWORD is 32 characters' \
  'REPORTER_CREDENTIALS_KEY is base64 of 32 bytes' 'migration\(s\) linted by squawk [0-9.]+ and the additive checks: clean' \
  'reporterctl: database reachable' 'reporterctl: no pending migrations' 'reporterctl: redis reachable'; do
  check "reports: $line" grep -qE "^ok .*$line" "$WORK/out"
done
check "no container engine: the image check is reported as skipped" grep -q '^skip image .* (no container engine reachable)' "$WORK/out"
DOCKER="$WORK/bin/docker-all" run_check "$GOOD" --tag v1.2.3
check "with an engine that has the image, the image check passes" grep -q '^ok   image registry.test/reporter:v1.2.3 exists' "$WORK/out"
run_check "$GOOD" --tag v1.2.3 --dry-run
check "--dry-run passes and skips reporterctl and the image (exit $rc)" \
  test "$rc:$(grep -c '^skip' "$WORK/out")" = 0:2

# --- pending migrations -------------------------------------------------------------------
PENDING="$WORK/pending.env"
cp "$GOOD" "$PENDING"
set_env_var "$PENDING" DATABASE_URL "$(db_url "$DB_EMPTY")"
run_check "$PENDING"
check "pending migrations fail the check (exit $rc)" test "$rc" -eq 1
check "... and are named" grep -q '^FAIL reporterctl: pending migrations: ' "$WORK/out"
run_check "$PENDING" --allow-pending-migrations
check "--allow-pending-migrations lets them through (exit $rc)" test "$rc" -eq 0

# --- a bad env file: every problem listed at once -------------------------------------------------
BAD="$WORK/bad.env"
cp "$GOOD" "$BAD"
SECRET_KEY=$(env_value "$GOOD" REPORTER_CREDENTIALS_KEY)
sed -i '/^REPORTER_TIMEZONE=/d; /^SMOKE_EMAIL=/d' "$BAD"
set_env_var "$BAD" POSTGRES_PASSWORD 'short-pw'
set_env_var "$BAD" REDIS_PASSWORD 'CHANGE_ME_at_least_24_random_characters'
set_env_var "$BAD" REPORTER_CREDENTIALS_KEY "$(head -c 16 /dev/urandom | base64)"
set_env_var "$BAD" DATABASE_URL 'postgres://reporter:another-password-of-enough-length@postgres:5432/reporter'
set_env_var "$BAD" REPORTER_PORTAL_URL ''
set_env_var "$BAD" LOG_FORMAT xml
chmod 644 "$BAD"
run_check "$BAD" --tag latest
check "a bad env file fails (exit $rc)" test "$rc" -eq 1
for problem in 'readable by group or others' 'missing from .*REPORTER_TIMEZONE.*SMOKE_EMAIL' \
  'empty in .*REPORTER_PORTAL_URL' 'placeholders .*REDIS_PASSWORD' 'POSTGRES_PASSWORD is 8 characters' \
  'REPORTER_CREDENTIALS_KEY decodes to 16 bytes' 'password in DATABASE_URL is not POSTGRES_PASSWORD' \
  'LOG_FORMAT must be text or json' 'tag latest is mutable'; do
  check "lists: $problem" grep -qE "^FAIL .*$problem" "$WORK/out"
done
check "does not run reporterctl against a broken env" grep -q '^skip reporterctl check (fix the problems above first)' "$WORK/out"
check "ends with the count of problems" grep -qE '^pre-deploy check FAILED: 10 problem\(s\):$' "$WORK/out"
check "prints no secret value (the key)" lacks "$(env_value "$BAD" REPORTER_CREDENTIALS_KEY)" "$WORK/out"
check "prints no secret value (the short password)" lacks short-pw "$WORK/out"
check "prints no secret value (the URL password)" lacks another-password-of-enough-length "$WORK/out"
check "prints no secret of the good file either" lacks "$SECRET_KEY" "$WORK/out"

run_check "$WORK/none.env"
check "a missing env file fails (exit $rc)" test "$rc" -eq 1

# --- the database is down ----------------------------------------------------------------------------
DOWN="$WORK/down.env"
cp "$GOOD" "$DOWN"
set_env_var "$DOWN" DATABASE_URL "postgres://postgres:postgres@127.0.0.1:$(free_port)/nothing"
run_check "$DOWN"
check "an unreachable database fails (exit $rc)" test "$rc" -eq 1
check "... named as such" grep -q '^FAIL reporterctl: database unreachable' "$WORK/out"

# --- migrations that are not additive ----------------------------------------------------------
BAD_MIG="$SB/migrations/2099-01-01-000000_bad"
mkdir -p "$BAD_MIG"
printf -- "SET LOCAL lock_timeout = '5s';\n-- a comment saying DROP TABLE is fine\nALTER TABLE users\n  DROP   COLUMN portal_email;\n" \
  >"$BAD_MIG/up.sql"
run_check "$GOOD" --skip-reporterctl
check "a DROP COLUMN migration fails the check (exit $rc)" test "$rc" -eq 1
check "... naming the file, the line and the rule" \
  grep -q '^FAIL migration lint: migrations/2099-01-01-000000_bad/up.sql:4: ban-drop-column: ' "$WORK/out"
printf "SET LOCAL lock_timeout = '5s';\nALTER TABLE users RENAME COLUMN email TO mail;\n" >"$BAD_MIG/up.sql"
run_check "$GOOD" --skip-reporterctl
check "a RENAME migration fails the check" grep -q 'up.sql:2: renaming-column: ' "$WORK/out"
printf "SET LOCAL lock_timeout = '5s';\nALTER TABLE reporter_runs DROP CONSTRAINT reporter_runs_origin_check;\n" >"$BAD_MIG/up.sql"
run_check "$GOOD" --skip-reporterctl
check "a DROP CONSTRAINT migration fails the check" grep -q 'up.sql:2: ban-drop-constraint: ' "$WORK/out"
printf "SET LOCAL lock_timeout = '5s';\n-- DROP TABLE users; (only a comment)\nCREATE TABLE x (id bigint);\n" >"$BAD_MIG/up.sql"
run_check "$GOOD" --skip-reporterctl
check "a destructive word in a comment is not flagged (exit $rc)" test "$rc" -eq 0

# --- squawk unavailable (a deploy host without npm or pip) ------------------------------------------
SQUAWK=/bin/true run_check "$GOOD" --skip-reporterctl
check "no squawk: the check fails (exit $rc)" test "$rc" -eq 1
check "... saying what to do" grep -q '^FAIL migration lint: squawk is not available here .*--skip-migration-lint' "$WORK/out"
SQUAWK=/bin/true run_check "$GOOD" --skip-reporterctl --skip-migration-lint
check "--skip-migration-lint lets it through (exit $rc)" test "$rc" -eq 0
check "... reported as skipped" grep -q '^skip squawk migration lint (--skip-migration-lint)' "$WORK/out"
SQUAWK=/bin/true SKIP_MIGRATION_LINT=1 run_check "$GOOD" --skip-reporterctl
check "SKIP_MIGRATION_LINT=1 does the same (exit $rc)" test "$rc" -eq 0
printf "TRUNCATE reporter_order_reports;\n" >"$BAD_MIG/up.sql"
SQUAWK=/bin/true run_check "$GOOD" --skip-reporterctl --skip-migration-lint
check "without squawk the additive checks still run: TRUNCATE fails (exit $rc)" grep -q 'up.sql:1: ban-truncate: ' "$WORK/out"
rm -rf "$BAD_MIG"

"$CHECK" --bogus >/dev/null 2>&1 && rc=0 || rc=$?
check "an unknown option is a usage error (exit $rc)" test "$rc" -eq 2

finish
