# shellcheck shell=bash
# Rolling replacement of the API replicas behind the proxy, one at a time.
# One sequence for every driver: deploy.sh and `roll-api.sh --env` replace
# compose services (api-a, api-b); `roll-api.sh --local` replaces local
# reporter-api processes (what tests/deploy/test_zero_downtime.sh measures).
#
# Per replica:
#   1. replica_replace NAME  the old replica gets SIGTERM: it answers 503 on
#                            /readyz for REPORTER_API_DRAIN_SECS while it still
#                            serves, so the proxy's 1 s health check takes it
#                            out; then it stops accepting, finishes in-flight
#                            requests and exits; the new one is started.
#   2. replica_ready NAME    polled until the new replica answers 200 on /readyz
#                            (at most ROLL_READY_TIMEOUT s, every ROLL_POLL s).
#   3. settle                ROLL_SETTLE_SECS (default 3: three proxy health
#                            checks) so the proxy routes to it again before the
#                            next replica goes.
# The driver defines replica_replace and replica_ready (0 = ready) before
# calling roll_replicas. In a dry run (DRY_RUN=1) replica_ready is not polled.
# Sourced after scripts/lib/deploy-common.sh.

ROLL_READY_TIMEOUT=${ROLL_READY_TIMEOUT:-120}
ROLL_POLL=${ROLL_POLL:-0.5}
ROLL_SETTLE_SECS=${ROLL_SETTLE_SECS:-3}

roll_replicas() { # names...
  local r deadline started
  for r in "$@"; do
    started=$SECONDS
    if [ "${DRY_RUN:-0}" -eq 1 ]; then
      printf '# replace %s: it drains (/readyz 503, the proxy takes it out), then the new one starts\n' "$r"
    else
      log "api replica $r: replacing (it drains first; the other replicas serve)"
    fi
    replica_replace "$r" || { warn "could not replace api replica $r"; return 1; }
    if [ "${DRY_RUN:-0}" -eq 1 ]; then
      printf '# wait until %s answers 200 on /api/v1/readyz (at most %ss), then %ss for the proxy to route to it\n' \
        "$r" "$ROLL_READY_TIMEOUT" "$ROLL_SETTLE_SECS"
      continue
    fi
    deadline=$((SECONDS + ROLL_READY_TIMEOUT))
    until replica_ready "$r"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        warn "api replica $r not ready after ${ROLL_READY_TIMEOUT}s"
        return 1
      fi
      sleep "$ROLL_POLL"
    done
    sleep "$ROLL_SETTLE_SECS"
    log "api replica $r ready and back in the proxy ($((SECONDS - started))s)"
  done
}
