#!/usr/bin/env bash
# Deletes the failure artifacts (screenshots and page sources workers save
# under REPORTER_ARTIFACTS_DIR: run-<id>/user-<id>/range-<id>/...) older than
# ARTIFACT_RETENTION_DAYS, then directories left empty for more than an hour
# (never one a worker just created). Prints what it deletes and a total.
#
#   scripts/prune-artifacts.sh --dir DIR [options]            # a directory on this host
#   scripts/prune-artifacts.sh --compose-file FILE [options]  # inside the running worker container
#
# Options:
#   --dir DIR            the artifacts directory, e.g. the volume's path on the host
#                        (docker volume inspect -f '{{.Mountpoint}}' reporter-prod_artifacts)
#   --compose-file FILE  run find inside a running container of the worker service, on
#                        /data/artifacts (the artifacts volume)
#   --env-file FILE      env file (default: .env at the repository root); compose mode reads
#                        ARTIFACT_RETENTION_DAYS from it when the environment does not set it
#   --service NAME       compose service with the volume mounted read-write (default worker)
#   --path PATH          the artifacts directory inside the container (default /data/artifacts)
#   --days N             delete files older than N days (default $ARTIFACT_RETENTION_DAYS, else 30)
#   --dry-run            list what would be deleted, delete nothing
#   -h, --help           this text
#
# Environment: COMPOSE (default "docker compose"), ARTIFACT_RETENTION_DAYS.
# Exit: 0 ok, 1 error, 2 usage error.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/deploy-common.sh
source "$ROOT/scripts/lib/deploy-common.sh"

DIR='' COMPOSE_FILE='' ENV_FILE="$ROOT/.env" SERVICE=worker CPATH=/data/artifacts DAYS='' DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    --compose-file) [ $# -ge 2 ] || usage_error "--compose-file needs a file"; COMPOSE_FILE=$2; shift 2 ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; ENV_FILE=$2; shift 2 ;;
    --service) [ $# -ge 2 ] || usage_error "--service needs a name"; SERVICE=$2; shift 2 ;;
    --path) [ $# -ge 2 ] || usage_error "--path needs a path"; CPATH=$2; shift 2 ;;
    --days) [ $# -ge 2 ] || usage_error "--days needs a number"; DAYS=$2; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h | --help) print_help "$0"; exit 0 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
[ -n "$DIR" ] || [ -n "$COMPOSE_FILE" ] || usage_error "give --dir DIR or --compose-file FILE"
[ -z "$DIR" ] || [ -z "$COMPOSE_FILE" ] || usage_error "give --dir or --compose-file, not both"
if [ -z "$DAYS" ]; then
  DAYS=${ARTIFACT_RETENTION_DAYS:-}
  if [ -z "$DAYS" ] && [ -n "$COMPOSE_FILE" ] && [ -r "$ENV_FILE" ]; then
    load_env_file "$ENV_FILE" || true
    DAYS=$(envf ARTIFACT_RETENTION_DAYS)
  fi
  DAYS=${DAYS:-30}
fi
{ [[ $DAYS =~ ^[0-9]+$ ]] && [ "$DAYS" -ge 1 ]; } || usage_error "--days (ARTIFACT_RETENTION_DAYS) must be a whole number of days, at least 1"
[[ $CPATH == /* ]] || usage_error "--path must be absolute"

# The same find on either side: prints "<bytes> <path>" per file it deletes
# (or would delete), then removes directories empty for over an hour.
# shellcheck disable=SC2016 # expanded by the sh that runs it
PRUNE='
  set -eu
  root=$1 minutes=$2 dry=$3
  [ -d "$root" ] || { echo "no directory $root" >&2; exit 1; }
  if [ "$dry" = 1 ]; then
    find "$root" -mindepth 1 -type f -mmin "+$minutes" -printf "%s %p\n"
  else
    find "$root" -mindepth 1 -type f -mmin "+$minutes" -printf "%s %p\n" -delete
    find "$root" -mindepth 1 -depth -type d -empty -mmin +60 -delete
  fi'
minutes=$((DAYS * 1440))
if [ -n "$COMPOSE_FILE" ]; then
  [ -f "$COMPOSE_FILE" ] || die "compose file $COMPOSE_FILE not found"
  read -ra COMPOSE_CMD <<<"${COMPOSE:-docker compose}"
  where="$SERVICE:$CPATH"
  run_prune() {
    env "REPORTER_TAG=${REPORTER_TAG:-prune}" "${COMPOSE_CMD[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" \
      exec -T "$SERVICE" sh -c "$PRUNE" sh "$CPATH" "$minutes" "$DRY"
  }
else
  [ -d "$DIR" ] || die "artifacts directory $DIR not found"
  where=$DIR
  run_prune() { sh -c "$PRUNE" sh "$DIR" "$minutes" "$DRY"; }
fi

verb=deleted
[ "$DRY" -eq 0 ] || verb='would delete'
log "$([ "$DRY" -eq 0 ] || printf 'dry run: ')files older than $DAYS days in $where"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run_prune >"$out" || die "pruning $where failed (compose mode needs a running $SERVICE container; or use --dir with the volume's path)"
awk -v verb="$verb" '{ n++; bytes += $1; sub(/^[0-9]+ /, ""); print verb ": " $0 }
  END { printf "%s %d files, %.1f MiB\n", verb, n, bytes / 1048576 }' "$out"
