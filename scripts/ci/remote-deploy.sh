#!/usr/bin/env bash
# Runs scripts/deploy.sh on a deploy host over SSH, for the deploy jobs of
# .github/workflows/ (after scripts/ci/ssh-setup.sh ALIAS):
#   deploy    fetches, checks out COMMIT (detached) in APP_DIR, then
#             scripts/deploy.sh deploy --env ENV --tag TAG (which backs up,
#             migrates, restarts, smoke-tests and rolls back by itself)
#   rollback  scripts/deploy.sh rollback --env ENV (to the previous known-good tag)
#   status    scripts/deploy.sh status --env ENV
#
#   scripts/ci/remote-deploy.sh ALIAS ENV deploy COMMIT TAG
#   scripts/ci/remote-deploy.sh ALIAS ENV rollback|status
#
# Environment:
#   APP_DIR   the checkout of this repository on the host (a secret)
#   SSH       ssh command (default ssh)
#
# Every value is checked, then quoted for the remote shell.
# Exit: what the remote command exits with; 2 usage error.
set -euo pipefail

usage_error() { printf 'error: %s (see --help)\n' "$*" >&2; exit 2; }
case "${1:-}" in
  -h | --help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
  -*) usage_error "unknown argument $1" ;;
esac
[ $# -ge 3 ] || usage_error "ALIAS ENV ACTION expected"
ALIAS=$1 DEPLOY_ENV=$2 ACTION=$3
shift 3
[[ $ALIAS =~ ^[a-z][a-z0-9-]{0,31}$ ]] || usage_error "bad ALIAS"
case "$DEPLOY_ENV" in staging | prod) ;; *) usage_error "ENV must be staging or prod" ;; esac
[ -n "${APP_DIR:-}" ] || { echo "error: APP_DIR is not set (the environment's secrets?)" >&2; exit 1; }
read -ra SSH_CMD <<<"${SSH:-ssh}"

app=$(printf '%q' "$APP_DIR")
case "$ACTION" in
  deploy)
    [ $# -eq 2 ] || usage_error "deploy needs COMMIT TAG"
    COMMIT=$1 TAG=$2
    [[ $COMMIT =~ ^[0-9a-f]{40}$ ]] || usage_error "COMMIT must be a full commit SHA"
    [[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || usage_error "TAG is not a valid image tag"
    remote="cd $app && git fetch --quiet --tags origin && git checkout --quiet --detach $COMMIT"
    remote+=" && scripts/deploy.sh deploy --env $DEPLOY_ENV --tag $TAG"
    ;;
  rollback | status)
    [ $# -eq 0 ] || usage_error "$ACTION takes no more arguments"
    remote="cd $app && scripts/deploy.sh $ACTION --env $DEPLOY_ENV"
    ;;
  *) usage_error "ACTION must be deploy, rollback or status" ;;
esac
printf '==> ssh %s: %s\n' "$ALIAS" "${remote/#"cd $app"/cd \$APP_DIR}"
exec "${SSH_CMD[@]}" "$ALIAS" "$remote"
