# A private PostgreSQL 15 cluster on a free loopback port, with the extension preloaded (its
# workers need shared_preload_libraries). Sourced by test/run-all, demo/run and bench/run: the one
# harness every command uses.
#
#   abdm_cluster_start NAME [extra postgresql.conf lines...]   exports PGHOST PGPORT PGUSER PGDATA
#                                                               and ABDM_BRIDGE_PORT (the listener's)
#   abdm_cluster_stop                                           stops it and removes its folder
#   abdm_cluster_restart                                        pg_ctl restart (keeps the data)
#
# The cluster lives in a new folder under /tmp (ABDM_CLUSTER_DIR to choose another), not in the
# checkout: the server runs as the 'postgres' OS user, who cannot enter a checkout in root's home
# (mode 700). With ABDM_KEEP_CLUSTER=1, abdm_cluster_stop leaves the server running and says how
# to stop it.
#
# Nothing here runs when the file is sourced: the scripts source it before abdm_install_deps has
# installed PostgreSQL, so the server's binaries are looked up at first use.

ABDM_ROOT=${ABDM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ABDM_PY=/usr/bin/python3   # Debian's python, where python3-psycopg2 and -cryptography live

# Debian 12's PostgreSQL 15, whatever else the machine has (PG_CONFIG overrides).
abdm_pg_config() {
  if [[ -n ${PG_CONFIG:-} ]]; then echo "$PG_CONFIG"
  elif [[ -x /usr/lib/postgresql/15/bin/pg_config ]]; then echo /usr/lib/postgresql/15/bin/pg_config
  else echo pg_config; fi
}
abdm_pgbin() { echo "${ABDM_PGBIN:-$("$(abdm_pg_config)" --bindir)}"; }

# PostgreSQL refuses to run as root; the cluster runs as the 'postgres' OS user that Debian's
# server package creates.
abdm_as_pg() {
  # From /, which the postgres user may enter: the checkout may be in root's home (mode 700).
  if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

abdm_free_port() {
  "$ABDM_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

abdm_cluster_start() {
  local name=$1 home pgbin; shift
  pgbin=$(abdm_pgbin) || return 1
  [[ -x $pgbin/initdb ]] || { echo "no PostgreSQL server binaries in '$pgbin'" >&2; return 1; }
  home=$(mktemp -d "${ABDM_CLUSTER_DIR:-/tmp}/abdm_hip-$name.XXXXXX") || return 1
  chmod 755 "$home"
  export PGDATA="$home/data"
  export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=postgres
  export PGPORT=$(abdm_free_port)
  # The extension's own listener (the bridge worker), which the simulator calls like the gateway.
  export ABDM_BRIDGE_PORT=$(abdm_free_port)
  mkdir -p "$PGDATA"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$home"
  abdm_as_pg "$pgbin/initdb" -D "$PGDATA" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 \
    || { cat "$home/initdb.log"; return 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PGPORT"
    echo "unix_socket_directories = '$PGDATA'"
    echo "shared_preload_libraries = 'abdm_hip'"
    echo "abdm_hip.database = 'postgres'"
    echo "fsync = off"
    echo "log_line_prefix = '%m [%p] %b '"
    echo "max_worker_processes = 16"
    echo "abdm_hip.listen_port = $ABDM_BRIDGE_PORT"
    for line in "$@"; do echo "$line"; done
  } >>"$PGDATA/postgresql.conf"
  abdm_as_pg "$pgbin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start >/dev/null \
    || { tail -30 "$PGDATA/server.log"; return 1; }
}

abdm_cluster_restart() {
  abdm_as_pg "$(abdm_pgbin)/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 restart >/dev/null
}

abdm_cluster_stop() {
  [[ -n ${PGDATA:-} && -d $PGDATA ]] || return 0
  local home pg_ctl
  home=$(dirname "$PGDATA") pg_ctl="$(abdm_pgbin)/pg_ctl"
  if [[ ${ABDM_KEEP_CLUSTER:-0} == 1 ]]; then
    echo "cluster kept running: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER psql"
    echo "stop and remove it:   runuser -u postgres -- $pg_ctl -D $PGDATA -m fast stop && rm -rf $home"
    return 0
  fi
  abdm_as_pg "$pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  # Only a folder this harness made (abdm_hip-NAME.XXXXXX) is removed.
  [[ $(basename "$home") == abdm_hip-* ]] && rm -rf "$home"
  unset PGDATA
}
