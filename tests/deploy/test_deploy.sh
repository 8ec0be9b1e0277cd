#!/usr/bin/env bash
# scripts/deploy.sh with a fake `docker` on PATH that records every call and
# answers like an engine that has every image and healthy containers:
#   - --dry-run prints the whole plan in order and runs nothing;
#   - deploy: pre-checks, backup, migrate, api -> beat -> worker, smoke, record;
#   - a smoke failure rolls back to the previous tag automatically;
#   - rollback goes to the previous known-good tag without migrating;
#   - status, current, the lock, failed pre-checks and migrations.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"

WORK=$(mktemp -d)
HTTP_PID=''
cleanup() {
  if [ -n "$HTTP_PID" ]; then kill "$HTTP_PID" 2>/dev/null || true; wait "$HTTP_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
SB="$WORK/repo"
make_sandbox "$SB"
mkdir -p "$WORK/bin"
write_good_env "$SB/.env" "BACKUP_DIR=$WORK/backups" BACKUP_KEEP=3 WORKER_REPLICAS=3

# --- the fakes --------------------------------------------------------------------------
export FAKE_DOCKER_LOG="$WORK/docker.log" FAKE_SMOKE_LOG="$WORK/smoke.log"
cat >"$WORK/bin/docker" <<'FAKE'
#!/usr/bin/env bash
# Fake docker: one line per call, "<REPORTER_TAG>\t<args>", then a canned answer.
printf '%s\t%s\n' "${REPORTER_TAG:-}" "$*" >>"$FAKE_DOCKER_LOG"
args=" $* "
case "$1" in
  info | pull) exit 0 ;;
  image | manifest)
    for t in ${FAKE_MISSING_TAGS:-}; do [[ $3 == *":$t" ]] && exit 1; done
    exit 0 ;;
  inspect)
    # The api containers are unhealthy while they run a tag in FAKE_UNHEALTHY_TAGS.
    if [[ ${*: -1} == cid-api-* ]]; then
      for t in ${FAKE_UNHEALTHY_TAGS:-}; do
        [ "$t" = "$(cat "$FAKE_DOCKER_LOG.api-tag" 2>/dev/null)" ] && { echo "running unhealthy"; exit 0; }
      done
    fi
    echo "running healthy"; exit 0 ;;
  compose)
    case "$args" in
      *" up -d --no-deps api-"[ab]" "*) printf '%s' "$REPORTER_TAG" >"$FAKE_DOCKER_LOG.api-tag"; exit 0 ;;
      *" exec -T api-"[ab]" curl "*)
        for t in ${FAKE_UNHEALTHY_TAGS:-}; do [ "$t" = "$(cat "$FAKE_DOCKER_LOG.api-tag" 2>/dev/null)" ] && exit 22; done
        exit 0 ;;
      *" ps -q "*) echo "cid-${*: -1}-1"; exit 0 ;;
      *" ps"*) echo "NAME  STATUS"; exit 0 ;;
      *" exec -T postgres "*pg_dump*) printf 'PGDMP fake archive\n'; exit 0 ;;
      *" exec -T postgres "*pg_restore*) cat >/dev/null; exit 0 ;;
      *" reporterctl check"*)
        printf 'ok   config valid\nok   database reachable\nok   no pending migrations\nok   redis reachable\n'
        exit 0 ;;
      *" run --rm -T migrate "*) exit "${FAKE_MIGRATE_RC:-0}" ;;
      *" up "*) exit 0 ;;
    esac ;;
esac
exit 0
FAKE
cat >"$WORK/bin/fake-smoke" <<'FAKE'
#!/usr/bin/env bash
# Fake smoke test: fails for the tags listed in FAKE_BAD_TAGS.
printf '%s\t%s\t%s\n' "$REPORTER_TAG" "$1" "${SMOKE_EMAIL:-}" >>"$FAKE_SMOKE_LOG"
for t in ${FAKE_BAD_TAGS:-}; do [ "$t" = "$REPORTER_TAG" ] && { echo "not ok - fake smoke"; exit 1; }; done
echo "ok - fake smoke"
FAKE
chmod +x "$WORK/bin/docker" "$WORK/bin/fake-smoke"
export PATH="$WORK/bin:$PATH"
export SMOKE_CMD="$WORK/bin/fake-smoke"
export REPORTER_DEPLOY_STATE_DIR="$WORK/state"
export DEPLOY_POLL_INTERVAL=0 DEPLOY_HEALTH_TIMEOUT=5 ROLL_SETTLE_SECS=0 ROLL_POLL=0
unset SMOKE_EMAIL SMOKE_PASSWORD COMPOSE DOCKER
DEPLOY="$SB/scripts/deploy.sh"
LOG="$WORK/state/deploys.log"

deploy() { "$DEPLOY" "$@" >"$WORK/out" 2>&1; }
calls() { cat "$FAKE_DOCKER_LOG" 2>/dev/null || true; }
reset_calls() { : >"$FAKE_DOCKER_LOG"; : >"$FAKE_SMOKE_LOG"; }
# First line number in FILE matching the regex, or 0.
line_of() { # regex file
  local n
  n=$(grep -nE -- "$1" "$2" | head -n 1 | cut -d: -f1)
  echo "${n:-0}"
}
# The regexes match in this order in FILE.
in_order() { # file regex...
  local file=$1 prev=0 n; shift
  for re in "$@"; do
    n=$(line_of "$re" "$file")
    if [ "$n" -eq 0 ] || [ "$n" -le "$prev" ]; then diag "out of order or missing: $re"; return 1; fi
    prev=$n
  done
}
count() { grep -cE -- "$1" "$2" || true; }
last_record() { tail -n 1 "$LOG" | cut -f "$1"; }

# --- 1. dry run -----------------------------------------------------------------------------
reset_calls
"$DEPLOY" deploy --env prod --tag v1 --dry-run >"$WORK/plan" 2>&1 && rc=0 || rc=$?
check "deploy --dry-run exits 0 (exit $rc)" test "$rc" -eq 0
check "--dry-run runs no docker command" test ! -s "$FAKE_DOCKER_LOG"
check "--dry-run runs no smoke test" test ! -s "$FAKE_SMOKE_LOG"
check "--dry-run writes no state" test ! -e "$WORK/state"
check "the plan lists every step in order" in_order "$WORK/plan" \
  'pre-deploy-check\.sh .*--tag v1' \
  'backup-db\.sh .*--compose-file .*compose\.prod\.yml .*--label pre-deploy --tag v1 ' \
  'docker pull registry\.test/reporter:v1' \
  'REPORTER_TAG=v1 docker compose -p reporter-prod .* run --rm -T migrate$' \
  'run --rm --no-deps -T migrate reporterctl check' \
  'up -d --no-recreate postgres redis selenium caddy' \
  'exec -T caddy caddy reload' \
  'up -d --no-deps api-a$' 'wait until api-a answers 200 on /api/v1/readyz' \
  'up -d --no-deps api-b$' 'wait until api-b answers 200' \
  'wait until every api-b container is healthy' \
  'up -d --no-deps beat$' \
  'up -d --no-deps --scale worker=3 worker$' \
  'SMOKE_BEHIND_PROXY=1 .*fake-smoke http://127\.0\.0\.1:8000' \
  'keep compose\.prod\.yml as .*releases/v1/compose\.prod\.yml' \
  'record in .*deploys\.log: .* prod deploy v1 .* success'
check "the plan says what happens on failure" grep -q 'on a failure' "$WORK/plan"
check "the plan shows no secret" lacks "$(env_value "$SB/.env" POSTGRES_PASSWORD)" "$WORK/plan"
"$DEPLOY" rollback --env prod --tag v0 --dry-run >"$WORK/rplan" 2>&1 && rc=0 || rc=$?
check "rollback --dry-run exits 0 (exit $rc)" test "$rc" -eq 0
check "rollback --dry-run plans the rolling restart" in_order "$WORK/rplan" 'up -d --no-deps api-a$' 'up -d --no-deps api-b$'
check "rollback --dry-run names the release's compose file" grep -q 'releases/v0/compose\.prod\.yml if kept' "$WORK/rplan"
check "rollback --dry-run plans no migration" lacks migrate "$WORK/rplan"

# --- 2. first deploy ------------------------------------------------------------------------------
reset_calls
deploy deploy --env prod --tag v1 && rc=0 || rc=$?
check "deploy v1 succeeds (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 20 "$WORK/out" | sed 's/^/#   /'
check "v1 is recorded as a successful deploy" \
  test "$(last_record 3):$(last_record 4):$(last_record 6)" = "deploy:v1:success"
check "the deploy log line has time, env, action, tag, previous, result, user" \
  grep -qE $'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\tprod\tdeploy\tv1\t-\tsuccess\t[^\t]+\t-$' "$LOG"
check "current is v1" test "$("$DEPLOY" current --env prod)" = v1
check "a pre-deploy backup was written with its checksum" \
  test "$(find "$WORK/backups" -name 'pre-deploy-v1_reporter_*.dump' | wc -l):$(find "$WORK/backups" -name '*.sha256' | wc -l)" = 1:1

# --- 3. second deploy: the order of everything ---------------------------------------------------------
reset_calls
deploy deploy --env prod --tag v2 && rc=0 || rc=$?
check "deploy v2 succeeds (exit $rc)" test "$rc" -eq 0
calls >"$WORK/calls"
check "docker calls come in order: check, backup, migrate, api, beat, worker" in_order "$WORK/calls" \
  $'^v2\tcompose .*run --rm -T migrate reporterctl check' \
  'exec -T postgres sh -c exec pg_dump' \
  $'^v2\tcompose -p reporter-prod --project-directory .* -f .*compose\\.prod\\.yml --env-file .*\\.env run --rm -T migrate$' \
  $'^v2\tcompose .* run --rm --no-deps -T migrate reporterctl check' \
  $'^v2\tcompose .* up -d --no-deps api-a$' \
  $'^v2\tcompose .* exec -T api-a curl .*/api/v1/readyz' \
  $'^v2\tcompose .* up -d --no-deps api-b$' \
  $'^v2\tcompose .* exec -T api-b curl .*/api/v1/readyz' \
  $'^v2\tcompose .* up -d --no-deps beat$' \
  $'^v2\tcompose .* up -d --no-deps --scale worker=3 worker$'
check "both api replicas, beat and workers are each waited on" \
  test "$(count 'inspect .*cid-api-a-1' "$WORK/calls"):$(count 'inspect .*cid-api-b-1' "$WORK/calls"):$(count 'inspect .*cid-beat-1' "$WORK/calls"):$(count 'inspect .*cid-worker-1' "$WORK/calls")" = 1:1:1:1
check "the proxy reloads its Caddyfile instead of restarting" \
  test "$(count 'exec -T caddy caddy reload' "$WORK/calls"):$(count 'up -d --no-deps caddy' "$WORK/calls")" = 1:0
check "v2's compose file is kept for its rollback" cmp -s "$SB/compose.prod.yml" "$WORK/state/releases/v2/compose.prod.yml"
check "the smoke test ran once, for v2, with the account from .env" \
  test "$(cat "$FAKE_SMOKE_LOG")" = $'v2\thttp://127.0.0.1:8000\tsmoke@reporter.test'
check "the record names v1 as previous" test "$(last_record 4):$(last_record 5)" = v2:v1
check "status-free: current v2" test "$("$DEPLOY" current --env prod)" = v2

# --- 4. smoke failure -> automatic rollback ---------------------------------------------------------------
reset_calls
FAKE_BAD_TAGS=v3 deploy deploy --env prod --tag v3 && rc=0 || rc=$?
calls >"$WORK/calls"
check "a deploy whose smoke test fails exits non-zero (exit $rc)" test "$rc" -ne 0
check "it says it rolled back to v2" grep -q 'rolled back to v2' "$WORK/out"
check "v3 was migrated and rolled out, then v2 rolled out again" in_order "$WORK/calls" \
  $'^v3\tcompose .* run --rm -T migrate$' \
  $'^v3\tcompose .* up -d --no-deps api-a$' \
  $'^v3\tcompose .* up -d --no-deps --scale worker=3 worker$' \
  $'^v2\tcompose .* -f .*releases/v2/compose\\.prod\\.yml .* up -d --no-deps api-a$' \
  $'^v2\tcompose .* up -d --no-deps api-b$' \
  $'^v2\tcompose .* up -d --no-deps beat$' \
  $'^v2\tcompose .* up -d --no-deps --scale worker=3 worker$'
check "the rollback does not migrate" test "$(count $'^v2\t.*run --rm -T migrate$' "$WORK/calls")" = 0
check "smoke ran for v3, then for v2" test "$(cut -f1 "$FAKE_SMOKE_LOG" | tr '\n' ' ')" = "v3 v2 "
check "the log records v3 rolled-back and the auto-rollback to v2" \
  test "$(tail -n 2 "$LOG" | cut -f3,4,6 | tr '\t\n' ': ')" = "deploy:v3:rolled-back auto-rollback:v2:success "
check "current is still v2" test "$("$DEPLOY" current --env prod)" = v2

# --- 5. rollback -----------------------------------------------------------------------------------------
# The checkout moves on (a newer compose file); v1 must come back with its own.
cp "$SB/compose.prod.yml" "$WORK/compose.before"
printf '# a change after v1\n' >>"$SB/compose.prod.yml"
reset_calls
deploy rollback --env prod && rc=0 || rc=$?
calls >"$WORK/calls"
check "rollback succeeds (exit $rc)" test "$rc" -eq 0
check "rollback goes to v1, the previous known-good tag, one api replica at a time" in_order "$WORK/calls" \
  $'^v1\tcompose .* up -d --no-deps api-a$' $'^v1\tcompose .* exec -T api-a curl' $'^v1\tcompose .* up -d --no-deps api-b$' \
  $'^v1\tcompose .* up -d --no-deps beat$' $'^v1\tcompose .* up -d --no-deps --scale worker=3 worker$'
check "... with the compose file v1 was deployed with, not the checkout's" \
  test "$(count $'^v1\tcompose .* -f [^ ]*releases/v1/compose\\.prod\\.yml ' "$WORK/calls"):$(count $'^v1\tcompose .* -f [^ ]*/repo/compose\\.prod\\.yml ' "$WORK/calls")" = "$(count $'^v1\tcompose' "$WORK/calls"):0"
check "... which lacks the later change" lacks 'a change after v1' "$WORK/state/releases/v1/compose.prod.yml"
cp "$WORK/compose.before" "$SB/compose.prod.yml"
check "rollback never migrates nor backs up" test "$(count 'migrate|pg_dump' "$WORK/calls")" = 0
check "rollback smoke-tests v1" test "$(cut -f1 "$FAKE_SMOKE_LOG")" = v1
check "the log records the rollback from v2 to v1" test "$(last_record 3):$(last_record 4):$(last_record 5):$(last_record 6)" = rollback:v1:v2:success
check "current is v1" test "$("$DEPLOY" current --env prod)" = v1
deploy rollback --env prod && rc=0 || rc=$?
check "a second rollback has nowhere to go (exit $rc)" test "$rc" -ne 0
check "... and says so" grep -q 'no previous known-good release' "$WORK/out"
deploy deploy --env prod --tag v4 && deploy rollback --env prod && rc=0 || rc=$?
check "deploy v4 then rollback returns to v1" test "$rc:$("$DEPLOY" current --env prod)" = 0:v1

# --- 6. status --------------------------------------------------------------------------------------------------
mkdir -p "$WORK/www/api/v1"
printf '{"status":"healthy","checks":{}}' >"$WORK/www/api/v1/healthz"
PORT=$(free_port)
(cd "$WORK/www" && exec python3 -m http.server "$PORT" --bind 127.0.0.1) >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/api/v1/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
SMOKE_BASE_URL="http://127.0.0.1:$PORT" "$DEPLOY" status --env prod >"$WORK/status" 2>&1 && rc=0 || rc=$?
check "status exits 0 when the API is healthy (exit $rc)" test "$rc" -eq 0
check "status shows the current tag" grep -qE '^current: +v1' "$WORK/status"
check "status shows the previous tag" grep -qE '^previous: +' "$WORK/status"
check "status shows the health" grep -qE '^health: +healthy' "$WORK/status"
check "status lists the last deploys" grep -q 'rollback' "$WORK/status"
kill "$HTTP_PID"; wait "$HTTP_PID" 2>/dev/null || true; HTTP_PID=''
SMOKE_BASE_URL="http://127.0.0.1:$PORT" "$DEPLOY" status --env prod >"$WORK/status" 2>&1 && rc=0 || rc=$?
check "status exits 3 when the API is unreachable (exit $rc)" test "$rc" -eq 3
check "... and says unreachable" grep -qE '^health: +unreachable' "$WORK/status"
"$DEPLOY" current --env staging >/dev/null 2>&1 && rc=0 || rc=$?
check "staging has its own history (nothing recorded: exit $rc)" test "$rc" -ne 0

# --- 7. first deploy failing: nothing to roll back to ---------------------------------------------------------------
reset_calls
FAKE_BAD_TAGS=s1 deploy deploy --env staging --tag s1 && rc=0 || rc=$?
check "a failing first deploy exits non-zero (exit $rc)" test "$rc" -ne 0
check "... and says there is nothing to roll back to" grep -q 'no previous known-good release' "$WORK/out"
check "... recorded as failed" test "$(last_record 2):$(last_record 3):$(last_record 6)" = staging:deploy:failed
check "... staging uses compose.staging.yml and project reporter-staging" \
  grep -qE $'^s1\tcompose -p reporter-staging --project-directory .* -f .*compose\\.staging\\.yml' "$FAKE_DOCKER_LOG"

# --- 8. aborts before anything changes ------------------------------------------------------------------------------------
reset_calls
FAKE_MIGRATE_RC=1 deploy deploy --env prod --tag v5 && rc=0 || rc=$?
check "a failed migration aborts the deploy (exit $rc)" test "$rc" -ne 0
check "... before any service is restarted" test "$(count ' up -d --no-deps' "$FAKE_DOCKER_LOG")" = 0
check "... recorded as aborted" test "$(last_record 4):$(last_record 6)" = v5:aborted
check "... and v1 is still current" test "$("$DEPLOY" current --env prod)" = v1

reset_calls
cp "$SB/.env" "$WORK/good.env"
set_env_var "$SB/.env" POSTGRES_PASSWORD short
deploy deploy --env prod --tag v6 && rc=0 || rc=$?
check "a bad .env stops the deploy at the pre-checks (exit $rc)" test "$rc" -ne 0
check "... naming the problem" grep -q 'POSTGRES_PASSWORD is 5 characters' "$WORK/out"
check "... without touching containers or the database" test "$(count 'compose' "$FAKE_DOCKER_LOG")" = 0
cp "$WORK/good.env" "$SB/.env"

reset_calls
FAKE_MISSING_TAGS=v7 deploy deploy --env prod --tag v7 && rc=0 || rc=$?
check "a tag that is in no registry stops the deploy (exit $rc)" test "$rc" -ne 0
check "... at the image check" grep -q 'image registry.test/reporter:v7 not found' "$WORK/out"

reset_calls
FAKE_UNHEALTHY_TAGS=v8 DEPLOY_HEALTH_TIMEOUT=1 ROLL_READY_TIMEOUT=1 deploy deploy --env prod --tag v8 && rc=0 || rc=$?
check "an api replica that never gets ready fails the deploy (exit $rc)" test "$rc" -ne 0
check "... before the second replica, beat and workers are touched" \
  test "$(count $'^v8\t.* up -d --no-deps (api-b|beat|.*worker)' "$FAKE_DOCKER_LOG")" = 0
check "... and the stack is put back on v1" grep -qE $'^v1\tcompose .* up -d --no-deps api-a$' "$FAKE_DOCKER_LOG"
check "... which is recorded" test "$(tail -n 2 "$LOG" | cut -f3,4,6 | tr '\t\n' ': ')" = "deploy:v8:rolled-back auto-rollback:v1:success "

reset_calls
FAKE_BAD_TAGS=v1 deploy deploy --env prod --tag v1 && rc=0 || rc=$?
check "a failing redeploy of the running tag exits non-zero (exit $rc)" test "$rc" -ne 0
check "... and does not roll back to an older release" test "$(count ' up -d --no-deps api-a$' "$FAKE_DOCKER_LOG")" = 1
check "... saying why" grep -q 'not rolling back to an older release automatically' "$WORK/out"
check "... v1 is still current" test "$("$DEPLOY" current --env prod)" = v1

# An interrupted deploy is recorded as such.
reset_calls
cat >"$WORK/bin/slow-smoke" <<'FAKE'
#!/usr/bin/env bash
sleep 1
FAKE
chmod +x "$WORK/bin/slow-smoke"
SMOKE_CMD="$WORK/bin/slow-smoke" "$DEPLOY" deploy --env prod --tag v10 >"$WORK/out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q '6/7 smoke' "$WORK/out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
check "SIGTERM during a deploy stops it (exit $rc)" test "$rc" -ne 0
check "... recorded as aborted, interrupted" test "$(last_record 4):$(last_record 6)" = v10:aborted
SMOKE_BASE_URL=http://127.0.0.1:9 "$DEPLOY" status --env prod >"$WORK/status" 2>&1 || true
check "... and status warns of the unfinished deploy" grep -q '^UNFINISHED: .*v10' "$WORK/status"

# --- 9. the lock ---------------------------------------------------------------------------------------------------------------
mkdir -p "$WORK/state"
exec 8>"$WORK/state/prod.lock"
flock -n 8
deploy deploy --env prod --tag v9 && rc=0 || rc=$?
check "a second deploy of the same env waits for nobody: it refuses (exit $rc)" test "$rc" -ne 0
check "... naming the lock" grep -q 'another deploy or rollback of prod is running' "$WORK/out"
exec 8>&-

# --- 10. usage ------------------------------------------------------------------------------------------------------------------
"$DEPLOY" deploy --env prod >/dev/null 2>&1 && rc=0 || rc=$?
check "deploy without --tag is a usage error (exit $rc)" test "$rc" -eq 2
"$DEPLOY" deploy --env prod --tag latest >/dev/null 2>&1 && rc=0 || rc=$?
check "deploying 'latest' is refused (exit $rc)" test "$rc" -eq 2
"$DEPLOY" deploy --env qa --tag v1 >/dev/null 2>&1 && rc=0 || rc=$?
check "an unknown --env is a usage error (exit $rc)" test "$rc" -eq 2
"$DEPLOY" deploy --env prod --tag 'v1;rm' >/dev/null 2>&1 && rc=0 || rc=$?
check "a tag with shell characters is refused (exit $rc)" test "$rc" -eq 2
check "the state dir is private" test "$(stat -c %a "$WORK/state")" = 700

finish
