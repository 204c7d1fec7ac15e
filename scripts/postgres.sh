#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks.
#
#   scripts/postgres.sh start   # prints the URL of a fresh server
#   scripts/postgres.sh url     # the URL of the running one
#   scripts/postgres.sh stop    # stops it and deletes its files
#   scripts/postgres.sh pause   # stops it, keeping its files (for the
#   scripts/postgres.sh resume  # restart test: then starts it again)
#
# With $COORDINATE_TEST_POSTGRES set (a URL of a server someone else runs),
# `start` and `url` print it and `stop` does nothing.
#
# Otherwise: installs Debian's `postgresql` package if no server binaries
# are found, runs `initdb` into .pg/ (git-ignored; $COORDINATE_PG_DIR moves
# it) and starts the server listening on 127.0.0.1 only, on a free port,
# with fsync on (durability is part of the store's contract, and the
# benchmarks measure with it). PostgreSQL refuses to run as root: when
# started as root, the server runs as the `postgres` system user (which the
# Debian package creates; created here if missing), and .pg/ is made theirs.
# Authentication is `trust` on loopback for the user `coordinate`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${COORDINATE_PG_DIR:-$root/.pg}
cmd=${1:-}

if [ -n "${COORDINATE_TEST_POSTGRES:-}" ]; then
    case "$cmd" in
        start | url) echo "$COORDINATE_TEST_POSTGRES" ;;
        stop) ;;
        pause | resume) echo "postgres.sh: $cmd: the server is not ours (\$COORDINATE_TEST_POSTGRES)" >&2; exit 1 ;;
        *) echo "usage: $0 start|url|stop" >&2; exit 2 ;;
    esac
    exit 0
fi

find_bin() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
            echo "$d"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

# Runs a command as the server's user.
as_server() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin
    if ! bin=$(find_bin); then
        echo "postgres.sh: no PostgreSQL server binaries; installing Debian's postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >&2
        apt-get install -y --no-install-recommends postgresql >&2
        bin=$(find_bin)
    fi
    if [ -f "$dir/url" ] && as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        cat "$dir/url"
        return 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        chown postgres "$dir"
        # The server's user must reach $dir through its parents.
        local p=$dir
        while [ "$p" != / ]; do
            p=$(dirname "$p")
            chmod o+x "$p" 2>/dev/null || true
        done
    fi
    local port
    port=$(free_port)
    as_server "$bin/initdb" -D "$dir/data" -U coordinate --auth=trust \
        --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    as_server tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 300
shared_buffers = 256MB
deadlock_timeout = 100ms
EOF
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2 || {
        cat "$dir/server.log" >&2
        exit 1
    }
    as_server "$bin/createdb" -h 127.0.0.1 -p "$port" -U coordinate coordinate
    local url="postgresql://coordinate@127.0.0.1:$port/coordinate"
    echo "$url" | as_server tee "$dir/url" >/dev/null
    echo "$url"
}

stop() {
    local bin
    bin=$(find_bin) || return 0
    if [ -d "$dir/data" ]; then
        as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
}

pause() {
    local bin
    bin=$(find_bin)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
}

resume() {
    local bin
    bin=$(find_bin)
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2
}

case "$cmd" in
    start) start ;;
    pause) pause ;;
    resume) resume ;;
    url)
        if [ -f "$dir/url" ]; then cat "$dir/url"; else echo "postgres.sh: not started" >&2; exit 1; fi
        ;;
    stop) stop ;;
    *) echo "usage: $0 start|url|stop|pause|resume" >&2; exit 2 ;;
esac
