#!/usr/bin/env bash
# Local API replicas behind the proxy: the local-process mode of the rolling
# restart deploy.sh does with compose (same sequence, scripts/lib/rolling.sh).
# Used by tests/deploy/test_zero_downtime.sh and for rehearsing a roll or a
# rollback on one machine without Docker.
#
#   scripts/api-replicas.sh start  --dir DIR --bin PATH
#   scripts/api-replicas.sh roll   --dir DIR --bin PATH   # replace each, one at a time
#   scripts/api-replicas.sh stop   --dir DIR
#   scripts/api-replicas.sh status --dir DIR
#
# DIR/replicas lists the replicas, one `NAME HOST:PORT` per line (the same
# addresses as the proxy's REPORTER_API_UPSTREAMS). Each replica runs PATH
# (a reporter-api binary: the release to start or roll to) with the caller's
# environment and REPORTER_API_BIND=HOST:PORT; its pid is in DIR/NAME.pid, its
# output appended to DIR/NAME.log. A roll to the previous release's binary is
# a rollback.
#
# Options:
#   --dir DIR     state directory (required)
#   --bin PATH    reporter-api binary (start, roll)
#   -h, --help    this text
# Environment: ROLL_READY_TIMEOUT, ROLL_POLL, ROLL_SETTLE_SECS (scripts/lib/rolling.sh);
# STOP_TIMEOUT seconds to wait for a replica to exit after SIGTERM before
# SIGKILL (default 60: above REPORTER_API_DRAIN_SECS + REPORTER_API_SHUTDOWN_SECS).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"
# shellcheck source=scripts/lib/rolling.sh
source "$ROOT/scripts/lib/rolling.sh"

ACTION=${1:-}
case "$ACTION" in
  -h | --help | help) print_help "$0"; exit 0 ;;
  start | roll | stop | status) shift ;;
  '') usage_error "which action: start, roll, stop or status?" ;;
  *) usage_error "unknown action $ACTION" ;;
esac
DIR='' BIN=''
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    --bin) [ $# -ge 2 ] || usage_error "--bin needs a path"; BIN=$2; shift 2 ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
[ -n "$DIR" ] || usage_error "--dir is required"
[ -r "$DIR/replicas" ] || die "$DIR/replicas not found (one 'NAME HOST:PORT' per line)"
case "$ACTION" in
  start | roll) [ -x "$BIN" ] || usage_error "--bin must be an executable reporter-api" ;;
esac
STOP_TIMEOUT=${STOP_TIMEOUT:-60}
need_cmd curl

declare -A BIND=()
NAMES=()
while read -r name addr _; do
  if [ -z "${name:-}" ] || [ "${name:0:1}" = '#' ]; then continue; fi
  [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || die "bad replica name $name in $DIR/replicas"
  [[ $addr =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || die "bad address $addr for $name in $DIR/replicas"
  NAMES+=("$name")
  BIND[$name]=$addr
done <"$DIR/replicas"
[ ${#NAMES[@]} -gt 0 ] || die "no replica in $DIR/replicas"

pid_of() { # name: the live pid, or nothing
  local pid
  pid=$(cat "$DIR/$1.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
  return 0
}

start_one() { # name
  local r=$1
  [ -z "$(pid_of "$r")" ] || { log "$r already runs (pid $(pid_of "$r"))"; return 0; }
  printf '\n=== %s start %s\n' "$(utc_now)" "$BIN" >>"$DIR/$r.log"
  REPORTER_API_BIND=${BIND[$r]} setsid "$BIN" >>"$DIR/$r.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$DIR/$r.pid"
}

# SIGTERM, then wait: the replica drains and exits by itself; SIGKILL only
# past STOP_TIMEOUT (compose's stop_grace_period does the same).
stop_one() { # name
  local r=$1 pid deadline
  pid=$(pid_of "$r")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "$r (pid $pid) still running ${STOP_TIMEOUT}s after SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$DIR/$r.pid"
}

ready() { # name
  curl -fsS -o /dev/null --max-time 2 "http://${BIND[$1]}/api/v1/readyz" 2>/dev/null
}

# The driver for scripts/lib/rolling.sh.
replica_replace() { stop_one "$1" && start_one "$1"; }
replica_ready() { [ -n "$(pid_of "$1")" ] || die "api replica $1 exited (see $DIR/$1.log)"; ready "$1"; }

case "$ACTION" in
  start)
    for r in "${NAMES[@]}"; do start_one "$r"; done
    for r in "${NAMES[@]}"; do
      deadline=$((SECONDS + ROLL_READY_TIMEOUT))
      until replica_ready "$r"; do
        [ "$SECONDS" -lt "$deadline" ] || die "api replica $r not ready after ${ROLL_READY_TIMEOUT}s (see $DIR/$r.log)"
        sleep "$ROLL_POLL"
      done
      log "api replica $r ready on ${BIND[$r]}"
    done
    ;;
  roll)
    started=$SECONDS
    for r in "${NAMES[@]}"; do
      [ -n "$(pid_of "$r")" ] || die "api replica $r is not running: start the replicas first"
    done
    roll_replicas "${NAMES[@]}" || die "roll stopped; the replicas not yet replaced still run the old binary"
    log "rolled ${#NAMES[@]} replicas to $BIN in $((SECONDS - started))s"
    ;;
  stop)
    for r in "${NAMES[@]}"; do stop_one "$r"; done
    ;;
  status)
    rc=0
    for r in "${NAMES[@]}"; do
      pid=$(pid_of "$r")
      if [ -z "$pid" ]; then
        printf '%-10s %-22s stopped\n' "$r" "${BIND[$r]}"; rc=3
      elif ready "$r"; then
        printf '%-10s %-22s pid %-8s ready\n' "$r" "${BIND[$r]}" "$pid"
      else
        printf '%-10s %-22s pid %-8s not ready\n' "$r" "${BIND[$r]}" "$pid"; rc=3
      fi
    done
    exit "$rc"
    ;;
esac
