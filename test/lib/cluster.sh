# A private PostgreSQL 15 cluster in a folder under the checkout, on a free loopback port, with
# the extension preloaded (its workers need shared_preload_libraries). Sourced by test/run-all,
# demo/run and bench/run: the one harness every command uses.
#
#   abdm_cluster_start NAME [extra postgresql.conf lines...]   exports PGHOST PGPORT PGUSER PGDATA
#   abdm_cluster_stop                                           stops it and removes the folder
#   abdm_cluster_restart                                        pg_ctl restart (keeps the data)

ABDM_ROOT=${ABDM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ABDM_PGBIN=${ABDM_PGBIN:-$(pg_config --bindir)}
ABDM_PY=/usr/bin/python3   # Debian's python, where python3-psycopg2 and -cryptography live

# PostgreSQL refuses to run as root; the cluster runs as the 'postgres' OS user that Debian's
# server package creates.
abdm_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

abdm_free_port() {
  "$ABDM_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

abdm_cluster_start() {
  local name=$1; shift
  export PGDATA="$ABDM_ROOT/.cluster/$name"
  export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=postgres
  export PGPORT=$(abdm_free_port)
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$ABDM_ROOT/.cluster"
  abdm_as_pg "$ABDM_PGBIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$PGDATA.initdb.log" 2>&1 \
    || { cat "$PGDATA.initdb.log"; return 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PGPORT"
    echo "unix_socket_directories = '$PGDATA'"
    echo "shared_preload_libraries = 'abdm_hip'"
    echo "abdm_hip.database = 'postgres'"
    echo "fsync = off"
    echo "log_line_prefix = '%m [%p] %b '"
    echo "max_worker_processes = 16"
    for line in "$@"; do echo "$line"; done
  } >>"$PGDATA/postgresql.conf"
  abdm_as_pg "$ABDM_PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start >/dev/null \
    || { tail -30 "$PGDATA/server.log"; return 1; }
}

abdm_cluster_restart() {
  abdm_as_pg "$ABDM_PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 restart >/dev/null
}

abdm_cluster_stop() {
  [[ -n ${PGDATA:-} && -d $PGDATA ]] || return 0
  abdm_as_pg "$ABDM_PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  if [[ ${ABDM_KEEP_CLUSTER:-0} != 1 ]]; then rm -rf "$PGDATA" "$PGDATA.initdb.log"; fi
}
