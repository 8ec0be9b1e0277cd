#!/usr/bin/env bash
# SSH for a deploy job of .github/workflows/ (staging and production alike):
# writes the deploy key, the host's known key (checked strictly: an unknown
# or changed host key fails the connection) and a Host ALIAS entry to
# ~/.ssh, so the job then runs `ssh ALIAS ...`. --remove deletes the key.
#
#   scripts/ci/ssh-setup.sh ALIAS
#   scripts/ci/ssh-setup.sh --remove ALIAS
#
# Environment (the job's secrets, passed with env:, never on a command line):
#   SSH_KEY          private key of the deploy user (ed25519), deploy-only
#   SSH_KNOWN_HOSTS  the host's line(s) for known_hosts
#   SSH_HOST         host name
#   SSH_USER         deploy user there (member of the docker group)
#   SSH_DIR          where to write (default ~/.ssh)
#
# Exit: 0 done, 1 a variable is missing, 2 usage error.
set -euo pipefail

usage_error() { printf 'error: %s (see --help)\n' "$*" >&2; exit 2; }
REMOVE=0
case "${1:-}" in
  -h | --help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
  --remove) REMOVE=1; shift ;;
  -*) usage_error "unknown argument $1" ;;
esac
[ $# -eq 1 ] || usage_error "one ALIAS expected"
ALIAS=$1
[[ $ALIAS =~ ^[a-z][a-z0-9-]{0,31}$ ]] || usage_error "ALIAS must be a short lower-case name"
DIR=${SSH_DIR:-$HOME/.ssh}
KEY="$DIR/id_deploy_$ALIAS"

if [ "$REMOVE" -eq 1 ]; then
  rm -f "$KEY"
  exit 0
fi

missing=()
for v in SSH_KEY SSH_KNOWN_HOSTS SSH_HOST SSH_USER; do
  [ -n "${!v:-}" ] || missing+=("$v")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: not set (the environment's secrets?): ${missing[*]}" >&2
  exit 1
fi
# Host and user go into ssh_config: no spaces, no option injection.
[[ $SSH_HOST =~ ^[A-Za-z0-9.:-]+$ && $SSH_USER =~ ^[a-z_][a-z0-9_-]*$ ]] \
  || { echo "error: SSH_HOST or SSH_USER has unexpected characters" >&2; exit 1; }

install -d -m 700 "$DIR"
(umask 077 && printf '%s\n' "$SSH_KEY" >"$KEY")
printf '%s\n' "$SSH_KNOWN_HOSTS" >>"$DIR/known_hosts"
chmod 600 "$DIR/known_hosts"
{
  echo "Host $ALIAS"
  echo "  HostName $SSH_HOST"
  echo "  User $SSH_USER"
  echo "  IdentityFile $KEY"
  echo "  IdentitiesOnly yes"
  echo "  StrictHostKeyChecking yes"
  echo "  UserKnownHostsFile $DIR/known_hosts"
  echo "  ServerAliveInterval 30"
} >>"$DIR/config"
chmod 600 "$DIR/config"
echo "ssh alias $ALIAS ready (host key checked strictly)"
