#!/usr/bin/env bash
# scripts/ci/lint-migrations.sh (squawk with .squawk.toml, plus the additive
# checks squawk lacks): the real migrations pass; in a sandbox copy, a new
# migration fails for each destructive or long-locking statement, naming the
# file, the line and the rule; an exception marked the documented way passes,
# one without a reason does not; squawk installs into an empty cache and a
# missing squawk is exit 3.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LINT="$ROOT/scripts/ci/lint-migrations.sh"

# --- squawk itself ---------------------------------------------------------------------
if ! SQ=$("$LINT" --install-only 2>"$WORK/install.err"); then
  not_ok "squawk could be installed (npm or pip)"
  sed 's/^/#   /' "$WORK/install.err"
  finish
fi
version=$(sed -n 's/^SQUAWK_VERSION=//p' "$LINT")
check "squawk is the pinned version ($version)" test "$("$SQ" --version)" = "squawk $version"

# --- the real migrations ------------------------------------------------------------------
"$LINT" >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "the repository's migrations pass (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/out"
n=$(find "$ROOT/migrations" -name up.sql | wc -l)
check "... all $n of them, by squawk $version" grep -q "^$n migration(s) linted by squawk $version and the additive checks: clean$" "$WORK/out"
check ".squawk.toml gives a reason above every excluded rule" python3 - "$ROOT/.squawk.toml" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("excluded_rules"))
rules = [(i, l) for i, l in enumerate(lines[start + 1:], start + 1) if re.match(r'^\s*"[a-z-]+",', l)]
sys.exit(0 if rules and all(lines[i - 1].strip().startswith("# ") for i, _ in rules) else 1)
PY

# --- new migrations in a sandbox ----------------------------------------------------------
SB="$WORK/repo"
make_sandbox "$SB"
NEW="$SB/migrations/2099-01-01-000000_new"
mkdir -p "$NEW"
lint_new() { # sql: lints the sandbox with that as the new up.sql; output in $WORK/out, status in $rc
  printf '%s\n' "$1" >"$NEW/up.sql"
  "$LINT" --root "$SB" >"$WORK/out" 2>&1 && rc=0 || rc=$?
}
TIMEOUT="SET LOCAL lock_timeout = '5s';"
# expect_rule "what" rule sql: the lint fails, naming the new file and the rule.
expect_rule() {
  local what=$1 rule=$2 sql=$3
  lint_new "$sql"
  if [ "$rc" -eq 1 ] && grep -qE "^migrations/2099-01-01-000000_new/up\.sql:[0-9]+: $rule: " "$WORK/out"; then
    ok "$what fails the lint ($rule)"
  else
    not_ok "$what fails the lint ($rule; exit $rc)"
    sed 's/^/#   /' "$WORK/out"
  fi
}
expect_rule "DROP COLUMN" ban-drop-column "$TIMEOUT
ALTER TABLE users DROP COLUMN portal_email;"
expect_rule "DROP TABLE" ban-drop-table "$TIMEOUT
DROP TABLE api_tokens;"
expect_rule "RENAME COLUMN" renaming-column "$TIMEOUT
ALTER TABLE users RENAME COLUMN email TO mail;"
expect_rule "RENAME TABLE" renaming-table "$TIMEOUT
ALTER TABLE users RENAME TO customers;"
expect_rule "ALTER COLUMN ... TYPE" changing-column-type "$TIMEOUT
ALTER TABLE reporter_ranges ALTER COLUMN range_start TYPE BIGINT;"
expect_rule "SET NOT NULL on an existing column" adding-not-nullable-field "$TIMEOUT
ALTER TABLE users ALTER COLUMN portal_email SET NOT NULL;"
expect_rule "DROP NOT NULL" ban-drop-not-null "$TIMEOUT
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;"
expect_rule "DROP CONSTRAINT" ban-drop-constraint "$TIMEOUT
ALTER TABLE reporter_runs DROP CONSTRAINT reporter_runs_slot_scheduled_key;"
expect_rule "DROP INDEX (not concurrently)" require-concurrent-index-deletion "$TIMEOUT
DROP INDEX api_tokens_user_id_idx;"
expect_rule "CREATE INDEX without CONCURRENTLY on an existing table" require-concurrent-index-creation "$TIMEOUT
CREATE INDEX users_portal_email_idx ON users (portal_email);"
expect_rule "a validated constraint on an existing table" constraint-missing-not-valid "$TIMEOUT
ALTER TABLE users ADD CONSTRAINT users_email_lower CHECK (email = lower(email));"
expect_rule "a NOT NULL column without a default" adding-required-field "$TIMEOUT
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL;"
expect_rule "TRUNCATE" ban-truncate "$TIMEOUT
TRUNCATE reporter_order_reports;"
expect_rule "DROP SCHEMA" ban-drop-schema "$TIMEOUT
DROP SCHEMA public CASCADE;"
expect_rule "a migration without lock_timeout" require-lock-timeout "ALTER TABLE users ADD COLUMN locale TEXT;"
lint_new "$TIMEOUT
ALTER TABLE users
    DROP COLUMN portal_email;"
check "the finding names the statement's 1-based line" grep -q '^migrations/2099-01-01-000000_new/up.sql:3: ban-drop-column: ' "$WORK/out"

# --- what stays allowed ---------------------------------------------------------------------
expect_clean() { # what sql
  lint_new "$2"
  if [ "$rc" -eq 0 ]; then ok "$1 passes"; else not_ok "$1 passes (exit $rc)"; sed 's/^/#   /' "$WORK/out"; fi
}
expect_clean "an additive migration (new table, nullable column, index on the new table)" "$TIMEOUT
CREATE TABLE reporter_notes (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), note TEXT NOT NULL DEFAULT '');
CREATE INDEX reporter_notes_user_idx ON reporter_notes (user_id);
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN verified BOOLEAN NOT NULL DEFAULT false;"
expect_clean "destructive words in comments and string literals" "$TIMEOUT
-- we never DROP CONSTRAINT or TRUNCATE here
COMMENT ON COLUMN users.email IS 'TRUNCATE; DROP CONSTRAINT x; DROP SCHEMA y';"
expect_clean "a squawk rule ignored with a reason (the documented way)" "$TIMEOUT
-- reviewed: portal_email unused since v1.3 (both releases that can run ignore it), backup taken
-- squawk-ignore ban-drop-column
ALTER TABLE users DROP COLUMN portal_email;"
expect_clean "an additive check ignored with a reason (the documented way)" "$TIMEOUT
-- reviewed: the constraint is replaced by reporter_runs_slot_scheduled_key2 in the previous migration
-- reporter-ignore ban-drop-constraint
ALTER TABLE reporter_runs DROP CONSTRAINT reporter_runs_slot_scheduled_key;"
expect_rule "an exception without a reason" exception-without-reason "$TIMEOUT
-- squawk-ignore ban-drop-column
ALTER TABLE users DROP COLUMN portal_email;"
expect_rule "a reporter-ignore of an unknown rule" unused-ignore "$TIMEOUT
-- reviewed: typo in the rule name
-- reporter-ignore ban-drop-constrant
ALTER TABLE reporter_runs DROP CONSTRAINT reporter_runs_slot_scheduled_key;"
expect_rule "an ignore of one rule does not hide another" ban-drop-column "$TIMEOUT
-- reviewed: wrong rule ignored
-- squawk-ignore renaming-column
ALTER TABLE users DROP COLUMN portal_email;"

# CREATE INDEX CONCURRENTLY: refused inside diesel's transaction, accepted in a
# migration that runs outside one (metadata.toml).
expect_rule "CREATE INDEX CONCURRENTLY inside a transaction" ban-concurrent-index-creation-in-transaction "$TIMEOUT
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_portal_email_idx ON users (portal_email);"
printf 'run_in_transaction = false\n' >"$NEW/metadata.toml"
expect_clean "CREATE INDEX CONCURRENTLY in a migration with run_in_transaction = false" \
  "SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_portal_email_idx ON users (portal_email);"
rm -f "$NEW/metadata.toml"
rm -rf "$NEW"

# --- squawk unavailable ----------------------------------------------------------------------
SQUAWK=/bin/true "$LINT" --root "$SB" >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "SQUAWK naming something else is exit 3 (exit $rc)" test "$rc" -eq 3
check "... said so" grep -q 'is not squawk' "$WORK/out"
PATH="$WORK/nobin:/usr/bin:/bin" SQUAWK_CACHE="$WORK/empty-cache" "$LINT" --root "$SB" --no-install >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "no squawk and --no-install: exit 3 (exit $rc)" test "$rc" -eq 3
check "... with how to install it" grep -q "npm install .*squawk-cli@$version" "$WORK/out"
SQUAWK=/bin/true "$LINT" --root "$SB" --no-squawk >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "--no-squawk needs no squawk and runs the additive checks (exit $rc)" \
  grep -q '^[0-9]* migration(s) linted by the additive checks: clean$' "$WORK/out"

# The installer, into an empty cache (npm, else pip: a registry download).
SQUAWK_CACHE="$WORK/cache" "$LINT" --install-only >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "squawk installs into an empty cache (exit $rc)" test "$rc" -eq 0 -a -x "$WORK/cache/bin/squawk"
check "... and only the binary is left there" test "$(find "$WORK/cache" -mindepth 1 | wc -l)" -eq 2

"$LINT" --bogus >/dev/null 2>&1 && rc=0 || rc=$?
check "an unknown option is a usage error (exit $rc)" test "$rc" -eq 2
"$LINT" --help >"$WORK/out" 2>&1 && rc=0 || rc=$?
check "--help describes it (exit $rc)" grep -q 'squawk-ignore' "$WORK/out"

finish
