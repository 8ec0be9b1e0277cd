# shellcheck shell=bash
# Shared by scripts/test.sh, scripts/dev.sh and the bench scripts: make sure
# the local services and packages exist and run. Safe to call repeatedly;
# never touches a service that is already up.

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* yourself"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

ensure_build_deps() {
  local missing=()
  for p in libpq-dev pkg-config; do have_pkg "$p" || missing+=("$p"); done
  command -v cc >/dev/null || missing+=(gcc)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# diesel_cli, for `diesel print-schema` (crates/core/src/schema.rs is its
# output: crates/ctl/tests/migrate.rs checks it). Built once into
# ~/.cargo/bin (a few minutes on 2 cores); exports DIESEL_CLI. Pinned to the
# diesel of Cargo.lock, so a newer diesel_cli cannot change what it prints.
DIESEL_CLI_VERSION="2.3.14"
ensure_diesel_cli() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/diesel"
  if ! { [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx " *Version: $DIESEL_CLI_VERSION"; }; then
    ensure_build_deps
    log "installing diesel_cli $DIESEL_CLI_VERSION (postgres only)"
    cargo install --quiet --locked diesel_cli --version "=$DIESEL_CLI_VERSION" \
      --no-default-features --features postgres
  fi
  export DIESEL_CLI="$bin"
}

PG_HOST=127.0.0.1
PG_PORT=5432
# Tests and dev use this superuser URL; the password is set by ensure_postgres
# when the server needs one (trust-auth servers ignore it).
export PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres:postgres@${PG_HOST}:${PG_PORT}/postgres}"

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql postgresql-client
  if ! pg_ready; then
    local ver
    ver=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1)
    [ -n "$ver" ] || die "PostgreSQL installed but no cluster found under /etc/postgresql"
    log "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 60); do pg_ready && break; sleep 0.5; done
    pg_ready || die "PostgreSQL did not start on $PG_HOST:$PG_PORT"
  fi
  if ! psql "$PG_ADMIN_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    log "setting the local postgres superuser password for tests"
    if [ "$(id -u)" -eq 0 ]; then
      su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    else
      sudo -u postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
    fi
    psql "$PG_ADMIN_URL" -Atqc 'SELECT 1' >/dev/null || die "cannot connect with $PG_ADMIN_URL"
  fi
}

REDIS_PORT=6379
export REDIS_BASE_URL="${REDIS_BASE_URL:-redis://127.0.0.1:${REDIS_PORT}}"

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /tmp/reporter-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /tmp/reporter-redis --logfile /tmp/reporter-redis/redis.log
    for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.25; done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "Redis did not start"
  fi
}

ensure_chromium() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}" fonts-liberation
}
