# shellcheck shell=bash
# Shared by backup-db.sh, restore-db.sh and restore-drill.sh (after
# deploy-common.sh). Sourced, never run.
#
# A backup is a set of files sharing one base name in BACKUP_DIR,
#   <kind>[-<tag>]_<database>_<UTC stamp>[-n]
# with the suffixes
#   .dump[.age]            pg_dump custom-format archive (.age: encrypted with age)
#   .dump[.age].sha256     sha256 of the file as stored (so of the encrypted bytes)
#   .rdb[.age], .sha256    the Redis RDB copied with it (when there is one)
#   .manifest.json         kind, tag, time, database, per-table row counts and
#                          checksums, sizes and sha256 of the files

# Suffixes of every file of a backup set, as deleted by retention.
# shellcheck disable=SC2034 # used by the scripts that source this file
BACKUP_SET_SUFFIXES=(.dump .dump.sha256 .dump.age .dump.age.sha256 .rdb .rdb.sha256 .rdb.age .rdb.age.sha256 .manifest.json)

# Per-table row count and checksum, one `schema.table|rows|checksum` line per
# ordinary table outside the system schemas, sorted by name. The checksum is
# the sum (as numeric, so it never overflows) of the first 64 bits of
# md5(row as text) over the table's rows: independent of row order and of
# collation, computed in constant memory. The session settings fix the text
# form of every type (time zone, date and interval styles, float digits,
# bytea), so the same rows give the same sum in any session on any server.
# Needs psql (uses \gexec); run it inside the transaction it should describe.
backup_stats_sql() {
  cat <<'SQL'
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET bytea_output = 'hex';
SELECT format('SELECT %L || ''|'' || count(*) || ''|'' || coalesce(sum((''x'' || left(md5(ROW(r.*)::text), 16))::bit(64)::bigint::numeric), 0) FROM %I.%I AS r',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
 ORDER BY n.nspname, c.relname
\gexec
SQL
}

# sha256_matches FILE: FILE matches the checksum in FILE.sha256.
# Prints why not on stderr.
sha256_matches() { # file
  local want have
  [ -f "$1.sha256" ] || { printf '%s.sha256 not found\n' "$1" >&2; return 1; }
  want=$(awk 'NR == 1 { print $1 }' "$1.sha256")
  [[ $want =~ ^[0-9a-f]{64}$ ]] || { printf '%s.sha256 does not hold a sha256 checksum\n' "$1" >&2; return 1; }
  have=$(sha256sum "$1" | awk '{ print $1 }')
  [ "$want" = "$have" ] || { printf 'checksum mismatch for %s: the file is damaged or was changed\n' "$1" >&2; return 1; }
}

# is_age_file FILE: the file starts with the age format header.
is_age_file() { [ "$(head -c 21 "$1" | tr -d '\0')" = "age-encryption.org/v1" ]; }

# open_backup FILE [IDENTITY]: the plaintext of a backup file on stdout,
# decrypted with the age identity file when FILE is encrypted. Never writes
# the plaintext to disk.
open_backup() { # file [identity]
  if is_age_file "$1"; then
    [ -n "${2:-}" ] || { printf '%s is encrypted: give the age identity file (--identity or BACKUP_AGE_IDENTITY)\n' "$1" >&2; return 1; }
    age --decrypt --identity "$2" "$1"
  else
    cat "$1"
  fi
}

# check_opens FILE MAGIC [IDENTITY]: the (decrypted) file starts with MAGIC.
# Reads only the first bytes; says clearly when the identity does not fit.
check_opens() { # file magic [identity]
  local err head
  err=$(mktemp)
  head=$(open_backup "$1" "${3:-}" 2>"$err" | head -c "${#2}" | tr -d '\0') || true
  if [ "$head" != "$2" ]; then
    if is_age_file "$1" && [ -n "${3:-}" ]; then
      printf 'cannot decrypt %s with the identity %s: %s\n' "$1" "$3" "$(tr '\n' ' ' <"$err")" >&2
    elif [ -s "$err" ]; then
      cat "$err" >&2
    else
      printf '%s does not start with %s: not the kind of file expected\n' "$1" "$2" >&2
    fi
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
}

# need_age_identity FILE: the age identity file is readable.
need_age_identity() {
  [ -r "$1" ] || die "age identity file $1 not found or not readable"
}

# write_prom FILE TEXT: writes a node_exporter textfile-collector file
# atomically (temp file in the same directory, then rename), mode 644.
write_prom() { # file text
  local dir tmp
  dir=$(dirname "$1")
  if [ ! -d "$dir" ]; then mkdir -p "$dir" && chmod 755 "$dir"; fi
  tmp=$(mktemp "$dir/.$(basename "$1").XXXXXX")
  printf '%s\n' "$2" >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$1"
}

# Settings from the env file (compose mode, or an explicit --env-file) fill in
# what neither the options nor the environment set; then the backup
# directory. Reads COMPOSE_FILE, ENV_FILE, ENV_FILE_SET; sets DIR if empty.
load_backup_env() {
  if [ -n "$COMPOSE_FILE" ] || [ "$ENV_FILE_SET" -eq 1 ]; then
    if [ -r "$ENV_FILE" ]; then
      load_env_file "$ENV_FILE" || true
    elif [ "$ENV_FILE_SET" -eq 1 ]; then
      die "env file $ENV_FILE not found or not readable"
    fi
  fi
  [ -n "$DIR" ] || DIR=${BACKUP_DIR:-$(envf BACKUP_DIR "$ROOT/backups")}
}

# METRICS_DIR from the option, the environment, the env file, else DIR/metrics.
resolve_metrics_dir() {
  [ -n "${BACKUP_METRICS_DIR+set}" ] || [ -n "$METRICS_DIR" ] || METRICS_DIR=$(envf BACKUP_METRICS_DIR)
  [ -n "$METRICS_DIR" ] || METRICS_DIR="$DIR/metrics"
}
