# shellcheck shell=bash
# Shared by the deploy tooling (deploy.sh, pre-deploy-check.sh, backup-db.sh,
# restore-db.sh, generate-secrets.sh, smoke-test.sh). Sourced, never run.
# Nothing here prints a secret: messages name variables, never their values.

# Colours only on a terminal, so logs and CI output stay plain.
if [ -t 2 ]; then
  _C_INFO=$'\033[1;34m' _C_WARN=$'\033[1;33m' _C_ERR=$'\033[1;31m' _C_OFF=$'\033[0m'
else
  _C_INFO='' _C_WARN='' _C_ERR='' _C_OFF=''
fi

log() { printf '%s==>%s %s\n' "$_C_INFO" "$_C_OFF" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_C_WARN" "$_C_OFF" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$_C_ERR" "$_C_OFF" "$*" >&2; exit 1; }
# Exit 2 is reserved for "you called me wrong".
usage_error() { printf '%serror:%s %s (see --help)\n' "$_C_ERR" "$_C_OFF" "$*" >&2; exit 2; }

need_cmd() { # cmd [hint]
  command -v "$1" >/dev/null 2>&1 || die "$1 not found${2:+: $2}"
}

# Prints the usage block: the leading comment of the calling script, from its
# second line down to the first line that is not a comment.
print_help() { # script-path
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"
}

# Quotes a command for display so it can be copied back into a shell.
quote_cmd() {
  local out='' a
  for a in "$@"; do out+="$(printf '%q' "$a") "; done
  printf '%s' "${out% }"
}

utc_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
utc_stamp() { date -u +%Y%m%dT%H%M%SZ; }

# Docker image tags: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
valid_tag() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; }

# --- env files --------------------------------------------------------------
# The format docker compose reads for `env_file:` and `--env-file`:
# KEY=VALUE per line, `#` comments, blank lines, an optional `export `, and
# one pair of surrounding quotes removed. Values are never evaluated, so a
# value may hold any character (but avoid `$`: compose interpolates it).
declare -gA ENVF=()
declare -ga ENVF_KEYS=()
declare -ga ENVF_ERRORS=()

load_env_file() { # file
  local file=$1 line key value n=0
  ENVF=() ENVF_KEYS=() ENVF_ERRORS=()
  [ -r "$file" ] || { ENVF_ERRORS+=("cannot read env file $file"); return 1; }
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    line=${line#"${line%%[![:space:]]*}"}
    line=${line#export }
    if [[ ! $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      ENVF_ERRORS+=("$file line $n is not KEY=VALUE")
      continue
    fi
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    if [[ $value =~ ^\"(.*)\"$ ]] || [[ $value =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    [ -n "${ENVF[$key]+set}" ] || ENVF_KEYS+=("$key")
    ENVF[$key]=$value
  done <"$file"
  return 0
}

envf() { # key [default]: the loaded value, or the default
  if [ -n "${ENVF[$1]+set}" ]; then printf '%s' "${ENVF[$1]}"; else printf '%s' "${2:-}"; fi
}

# Exports every loaded pair into the current shell's environment (call it in a
# subshell to scope it). Values travel in the environment, never in argv.
export_env_file_vars() {
  local k
  for k in "${ENVF_KEYS[@]}"; do export "$k=${ENVF[$k]}"; done
}

# --- URLs -------------------------------------------------------------------
# Splits a postgres:// or redis:// URL into fields, percent-decoded, one per
# line: scheme, user, password, host, port, database/path. The URL is read
# from the environment variable named by $1, so it never shows in argv.
url_fields() { # env-var-name
  python3 - "$1" <<'PY'
import os, sys
from urllib.parse import urlsplit, unquote
raw = os.environ.get(sys.argv[1], "")
try:
    u = urlsplit(raw)
    port = u.port
except ValueError:
    sys.exit(1)
if not u.scheme or not u.hostname:
    sys.exit(1)
for v in (u.scheme, unquote(u.username or ""), unquote(u.password or ""),
          u.hostname, "" if port is None else str(port), unquote(u.path.lstrip("/"))):
    if "\n" in v:
        sys.exit(1)
    print(v)
PY
}

# Exports PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE (and PGSSLMODE when the
# URL asks for it) from the PostgreSQL URL in the variable named by $1, so
# pg_dump/psql/pg_restore connect without the password on their command line.
export_pg_env_from_url() { # env-var-name
  local fields
  fields=$(python3 - "$1" <<'PY'
import os, sys
from urllib.parse import urlsplit, unquote, parse_qs
u = urlsplit(os.environ.get(sys.argv[1], ""))
if u.scheme not in ("postgres", "postgresql") or not u.hostname:
    sys.exit(1)
q = parse_qs(u.query)
out = {
    "PGHOST": u.hostname, "PGPORT": str(u.port or 5432),
    "PGUSER": unquote(u.username or ""), "PGPASSWORD": unquote(u.password or ""),
    "PGDATABASE": unquote(u.path.lstrip("/")) or "postgres",
    "PGSSLMODE": q.get("sslmode", [""])[0],
}
for k, v in out.items():
    if "\0" in v or "\n" in v:
        sys.exit(1)
    sys.stdout.write(f"{k}={v}\n")
PY
) || return 1
  local kv
  while IFS= read -r kv; do
    [ -n "${kv#*=}" ] || continue
    export "${kv?}"
  done <<<"$fields"
}

# --- secrets ----------------------------------------------------------------
# Random [A-Za-z0-9] string (no characters that need URL or shell quoting).
random_alnum() { # length
  python3 -c 'import secrets, string, sys
a = string.ascii_letters + string.digits
print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"
}

# Base64 of N random bytes.
random_b64() { # bytes
  python3 -c 'import base64, secrets, sys
print(base64.b64encode(secrets.token_bytes(int(sys.argv[1]))).decode())' "$1"
}

# Number of bytes the base64 text in the variable named by $1 decodes to, or
# -1 when it is not valid base64.
b64_decoded_len() { # env-var-name
  python3 - "$1" <<'PY'
import base64, binascii, os, sys
try:
    print(len(base64.b64decode(os.environ.get(sys.argv[1], "").strip(), validate=True)))
except (binascii.Error, ValueError):
    print(-1)
PY
}

# A value someone forgot to replace.
looks_like_placeholder() { # value
  local v=${1,,}
  [[ $v =~ change[-_]?me|replace[-_]?me|placeholder|todo|xxx|\<[a-z_-]+\> ]] && return 0
  case "$v" in
    password | secret | postgres | redis | reporter | admin | test | example | default | changeit) return 0 ;;
  esac
  return 1
}
