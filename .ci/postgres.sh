#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the sweep tests on a shared RDB storage.
#
#   eval "$(.ci/postgres.sh start)"   # installs if needed, starts, prints the export line
#   .ci/postgres.sh stop              # stops it and deletes its data folder
#
# `start` prints one line on stdout, `export VIVIT_TEST_POSTGRES_URL=postgresql+psycopg2://...`;
# everything else goes to stderr. The server listens on 127.0.0.1 only, with trust
# authentication: it is a test fixture, never a database to keep.
# Settings: VIVIT_PG_PORT (default 55432), VIVIT_PG_DIR (default /tmp/vivit-postgres).
set -euo pipefail

PORT=${VIVIT_PG_PORT:-55432}
DIR=${VIVIT_PG_DIR:-/tmp/vivit-postgres}
URL="postgresql+psycopg2://vivit:vivit@127.0.0.1:${PORT}/vivit"

log() { echo "postgres.sh: $*" >&2; }

# initdb and the server refuse to run as root; the Debian package makes a postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

install() {
    if [ -z "$(bin_dir)" ]; then
        log "installing postgresql (apt)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
}

start() {
    install
    local bin
    bin=$(bin_dir)
    stop_quietly
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
    as_owner "$bin/initdb" -D "$DIR/data" -U postgres -A trust >&2
    as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >&2
    as_owner "$bin/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres \
        -c "CREATE USER vivit PASSWORD 'vivit'" -c "CREATE DATABASE vivit OWNER vivit" >&2
    log "server on 127.0.0.1:$PORT (log: $DIR/server.log)"
    echo "export VIVIT_TEST_POSTGRES_URL=$URL"
}

stop_quietly() {
    local bin
    bin=$(bin_dir)
    if [ -n "$bin" ] && [ -f "$DIR/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop_quietly; log "stopped" ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
