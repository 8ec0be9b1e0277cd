#!/usr/bin/env bash
# shellcheck disable=SC2317 # the helpers below are called through check()
# scripts/generate-secrets.sh: lengths and formats, URLs built from the
# passwords, fresh values each run, no overwrite without --force, mode 600.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
GEN="$ROOT/scripts/generate-secrets.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$GEN" >"$WORK/a.env" </dev/null
"$GEN" >"$WORK/b.env" </dev/null
val() { env_value "$WORK/$1" "$2"; }
alnum() { [[ $1 =~ ^[A-Za-z0-9]+$ ]]; }
# shellcheck disable=SC2053 # $2 is a glob on purpose
matches() { [[ $1 == $2 ]]; }
lacks() { ! grep -qF -- "$1" "$2"; } # text file
private_backup_of() { local f; f=$(find "$(dirname "$1")" -name "$(basename "$1").bak-*" | head -n 1); [ -n "$f" ] && [ "$(stat -c %a "$f")" = 600 ]; }
same_keys() { diff <(grep -oE '^[A-Z_]+=' "$1" | sort -u) <(grep -oE '^[A-Z_]+=' "$2" | sort -u) >/dev/null; }

pg=$(val a.env POSTGRES_PASSWORD) rd=$(val a.env REDIS_PASSWORD) smoke=$(val a.env SMOKE_PASSWORD)
check "POSTGRES_PASSWORD has >= 24 characters (${#pg})" test "${#pg}" -ge 24
check "REDIS_PASSWORD has >= 24 characters (${#rd})" test "${#rd}" -ge 24
check "SMOKE_PASSWORD has >= 24 characters (${#smoke})" test "${#smoke}" -ge 24
check "POSTGRES_PASSWORD is letters and digits only (URL-safe)" alnum "$pg"
check "REDIS_PASSWORD is letters and digits only (URL-safe)" alnum "$rd"
key_len=$(KEY=$(val a.env REPORTER_CREDENTIALS_KEY) python3 -c 'import base64, os; print(len(base64.b64decode(os.environ["KEY"], validate=True)))')
check "REPORTER_CREDENTIALS_KEY is base64 of 32 bytes" test "$key_len" = 32
check "DATABASE_URL is built from POSTGRES_PASSWORD" \
  test "$(val a.env DATABASE_URL)" = "postgres://reporter:$pg@postgres:5432/reporter"
check "REDIS_URL is built from REDIS_PASSWORD" test "$(val a.env REDIS_URL)" = "redis://:$rd@redis:6379/0"
check "two runs give different secrets" test "$pg" != "$(val b.env POSTGRES_PASSWORD)"
check "two runs give different keys" \
  test "$(val a.env REPORTER_CREDENTIALS_KEY)" != "$(val b.env REPORTER_CREDENTIALS_KEY)"

"$GEN" --db-user app --db-name appdb --db-host db.internal --redis-host cache.internal >"$WORK/c.env"
check "--db-user/--db-name/--db-host shape DATABASE_URL" \
  matches "$(val c.env DATABASE_URL)" 'postgres://app:*@db.internal:5432/appdb'
check "--redis-host shapes REDIS_URL" matches "$(val c.env REDIS_URL)" 'redis://:*@cache.internal:6379/0'

# --output
out="$WORK/out.env"
"$GEN" --output "$out" </dev/null 2>"$WORK/err" >"$WORK/stdout"
check "--output writes the file" test -s "$out"
check "--output file is mode 600" test "$(stat -c %a "$out")" = 600
check "--output prints no secret on stdout" test ! -s "$WORK/stdout"
check "--output mentions no secret on stderr" lacks "$(env_value "$out" POSTGRES_PASSWORD)" "$WORK/err"
before=$(sha256sum "$out")
"$GEN" --output "$out" </dev/null >/dev/null 2>"$WORK/err" && rc=0 || rc=$?
check "refuses to overwrite an existing file without a terminal (exit $rc)" test "$rc" -ne 0
check "the refused file is unchanged" test "$before" = "$(sha256sum "$out")"
check "the refusal says why" grep -q 'not replacing it without --force' "$WORK/err"
"$GEN" --output "$out" --force </dev/null >/dev/null 2>&1
check "--force replaces it" test "$before" != "$(sha256sum "$out")"
check "--force keeps the old file as a private .bak" private_backup_of "$out"

# --template: the whole env file with the secrets filled in.
tpl="$WORK/full.env"
"$GEN" --template "$ROOT/deploy/env.example" --output "$tpl" </dev/null 2>/dev/null
check "--template keeps every key of deploy/env.example" same_keys "$ROOT/deploy/env.example" "$tpl"
check "--template fills the secrets (no CHANGE_ME left in them)" \
  test -z "$(grep -E '^(POSTGRES_PASSWORD|REDIS_PASSWORD|REPORTER_CREDENTIALS_KEY|DATABASE_URL|REDIS_URL|SMOKE_PASSWORD)=.*CHANGE_ME' "$tpl")"
check "--template leaves the other placeholders for a human" grep -q '^REPORTER_PORTAL_URL=.*CHANGE_ME' "$tpl"

"$GEN" --db-user 'bad user' >/dev/null 2>&1 && rc=0 || rc=$?
check "an unsafe --db-user is a usage error" test "$rc" -eq 2

finish
