#!/usr/bin/env bash
# PostgreSQL and Redis for development and tests, on loopback, with temporary data directories
# and free ports; both are stopped (and their data removed) when this script exits.
#
#   scripts/dev-services.sh                 start both, print their URLs, wait for Ctrl-C
#   scripts/dev-services.sh run CMD [ARG…]   start both, run CMD with DAOGOU_TEST_POSTGRES and
#                                            DAOGOU_TEST_REDIS set to their URLs, stop both
#   scripts/dev-services.sh install          only install them when missing
#
# Debian's `postgresql` and `redis-server` packages are installed when missing (as root). The
# PostgreSQL URL names the `postgres` database of a `daogou` superuser (trust authentication on
# loopback only), so tests can create a database each.
set -euo pipefail

need_install=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -x "${pg_bin:-}/initdb" ] || need_install+=(postgresql)
command -v redis-server >/dev/null || need_install+=(redis-server)
if [ ${#need_install[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "dev-services: missing ${need_install[*]}; install them (apt-get install ${need_install[*]})" >&2
    exit 1
  fi
  echo "dev-services: installing ${need_install[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}" >/dev/null; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
[ "${1:-}" = install ] && exit 0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

dir=$(mktemp -d /tmp/daogou-services.XXXXXX)
chmod 755 "$dir"
pg_port=$(free_port)
redis_port=$(free_port)
# PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg=(runuser -u postgres --)
fi

stop() {
  set +e
  [ -f "$dir/pg/postmaster.pid" ] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
  sleep 0.2
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

mkdir -p "$dir/pg"
[ ${#as_pg[@]} -eq 0 ] || chown postgres "$dir/pg"
"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/pg" -U daogou -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -w -t 60 -l "$dir/pg/server.log" \
  -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null \
  || { cat "$dir/pg/server.log" >&2; exit 1; }
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >/dev/null
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || { cat "$dir/redis.log" >&2; exit 1; }

export DAOGOU_TEST_POSTGRES="postgres://daogou@127.0.0.1:$pg_port/postgres"
export DAOGOU_TEST_REDIS="redis://127.0.0.1:$redis_port"
# how to restart PostgreSQL in place (the recovery tests): the data directory and pg_ctl
export DAOGOU_TEST_PGDATA="$dir/pg"
export DAOGOU_TEST_PGCTL="${as_pg[*]} $pg_bin/pg_ctl"

if [ "${1:-}" = run ]; then
  shift
  set +e
  "$@"
  rc=$?
  exit $rc
fi
echo "DAOGOU_TEST_POSTGRES=$DAOGOU_TEST_POSTGRES"
echo "DAOGOU_TEST_REDIS=$DAOGOU_TEST_REDIS"
echo "(Ctrl-C stops both and removes their data)"
while true; do sleep 3600; done
