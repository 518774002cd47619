#!/usr/bin/env bash
# postgres.sh start|stop|status|check|reset — a private PostgreSQL 15 cluster for tests and
# development (Debian's postgresql-15 binaries; apt-get installs them if missing and we are root).
#   start   initdb (first time; trust auth, UTF8, UTC, wal_level=logical for CDC), start it on
#           127.0.0.1 and make sure role and database `stockstream` exist; no-op if running
#   stop    fast shutdown
#   status  exit 0 if running, 3 if not
#   check   `select 1`, `SHOW wal_level` and a temporary logical replication slot, over TCP as
#           the stockstream role
#   reset   stop and delete the cluster
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` OS user (or a
# `stockstream` system user created here when there is none), and when that user cannot reach the
# state dir (e.g. under /root) the cluster lives in /var/lib/stockstream-services/<id>/postgres,
# linked from <state>/postgres/cluster.
# Env: STOCKSTREAM_PG_PORT (15432), STOCKSTREAM_PG_BIN (/usr/lib/postgresql/15/bin),
#      STOCKSTREAM_PG_OS_USER (postgres; root only), STOCKSTREAM_PG_FSYNC (off: a throwaway test
#      cluster; set on for durability), STOCKSTREAM_SERVICES_DIR, STOCKSTREAM_START_TIMEOUT.
set -euo pipefail
# shellcheck disable=SC2034 # SERVICE is read by lib.sh
SERVICE=postgres
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT="${STOCKSTREAM_PG_PORT:-15432}"
PG_BIN="${STOCKSTREAM_PG_BIN:-/usr/lib/postgresql/15/bin}"
FSYNC="${STOCKSTREAM_PG_FSYNC:-off}"
DIR="$STATE_ROOT/postgres"

ensure_binaries() {
  if [ ! -x "$PG_BIN/pg_ctl" ]; then
    apt_install postgresql-15
  fi
  [ -x "$PG_BIN/pg_ctl" ] || die "no pg_ctl in $PG_BIN (set STOCKSTREAM_PG_BIN)"
}

# Decide who runs the server and where its cluster lives: sets PG_USER (empty: ourselves),
# BASE (owned by PG_USER: data/, run/ for the socket, postgres.log).
resolve_layout() {
  PG_USER=""
  BASE="$DIR"
  if is_root; then
    PG_USER="${STOCKSTREAM_PG_OS_USER:-postgres}"
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
      if [ -z "${STOCKSTREAM_PG_OS_USER:-}" ]; then PG_USER=stockstream; fi
      if ! id -u "$PG_USER" >/dev/null 2>&1; then
        log "creating system user $PG_USER to run PostgreSQL (it refuses to run as root)"
        useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$PG_USER"
      fi
    fi
    mkdir -p "$STATE_ROOT"
    if ! (cd / && runuser -u "$PG_USER" -- test -x "$STATE_ROOT"); then
      BASE="/var/lib/stockstream-services/$(printf '%s' "$STATE_ROOT" | md5sum | cut -c1-8)/postgres"
    fi
  fi
  # A unix socket path must stay under ~107 bytes.
  SOCK_DIR="$BASE/run"
  if [ "${#SOCK_DIR}" -gt 90 ]; then
    SOCK_DIR="/tmp/stockstream-pg-$(printf '%s' "$BASE" | md5sum | cut -c1-8)"
  fi
  PGDATA_DIR="$BASE/data"
  LOGFILE="$BASE/postgres.log"
}

# Run a command as the server's OS user, from / (it may not be able to read our cwd).
as_pg() {
  if [ -n "$PG_USER" ]; then
    (cd / && runuser -u "$PG_USER" -- env HOME="$BASE" "$@")
  else
    (cd / && "$@")
  fi
}

prepare_dirs() {
  mkdir -p "$DIR" "$BASE" "$SOCK_DIR"
  if [ -n "$PG_USER" ]; then
    chown "$PG_USER:" "$BASE" "$SOCK_DIR"
    chmod 700 "$BASE"
  fi
  if [ "$BASE" != "$DIR" ]; then ln -sfn "$BASE" "$DIR/cluster"; fi
}

init_cluster() {
  [ -f "$PGDATA_DIR/PG_VERSION" ] && return 0
  log "initdb $PGDATA_DIR${PG_USER:+ (as OS user $PG_USER)}"
  as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$BASE/initdb.log" 2>&1 || { cat "$BASE/initdb.log" >&2; die "initdb failed"; }
  as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF

# --- deploy/local/postgres.sh (port, listen address and socket dir come from pg_ctl -o) ---
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
fsync = $FSYNC
synchronous_commit = $FSYNC
full_page_writes = $FSYNC
EOF
}

psql_admin() {
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PORT" -U postgres -d postgres
}

ensure_role_and_db() {
  psql_admin <<'EOF' >/dev/null
SELECT 'CREATE ROLE stockstream LOGIN SUPERUSER REPLICATION PASSWORD ''stockstream'''
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stockstream')\gexec
SELECT 'CREATE DATABASE stockstream OWNER stockstream'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'stockstream')\gexec
EOF
}

running() { [ -f "$PGDATA_DIR/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

# The port of the running server, from its postmaster.pid (line 4).
running_port() { as_pg sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true; }

cmd_start() {
  with_lock postgres
  resolve_layout
  ensure_binaries
  if running; then
    local p
    p="$(running_port)"
    [ "$p" = "$PORT" ] || die "already running on port $p, not $PORT: stop it first"
    ensure_role_and_db
    log "already running on 127.0.0.1:$PORT"
    return 0
  fi
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process"
  prepare_dirs
  init_cluster
  log "starting PostgreSQL 15 on 127.0.0.1:$PORT (log: $LOGFILE)"
  local t0=$SECONDS
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOGFILE" -w -t "$START_TIMEOUT" \
    -o "-p $PORT -k $SOCK_DIR -c listen_addresses=127.0.0.1" start >/dev/null 9>&-; then
    log "last lines of $LOGFILE:"
    as_pg tail -n 30 "$LOGFILE" >&2 || true
    die "PostgreSQL did not start"
  fi
  ensure_role_and_db
  log "ready in $((SECONDS - t0))s (socket dir $SOCK_DIR)"
}

cmd_stop() {
  with_lock postgres
  resolve_layout
  if [ -x "$PG_BIN/pg_ctl" ] && running; then
    log "stopping"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
  else
    log "not running"
  fi
}

cmd_status() {
  resolve_layout
  if [ -x "$PG_BIN/pg_ctl" ] && running; then
    echo "postgres: running on 127.0.0.1:$(running_port), data $PGDATA_DIR${PG_USER:+ (OS user $PG_USER)}"
  else
    echo "postgres: stopped"
    return 3
  fi
}

cmd_check() {
  resolve_layout
  running || die "not running"
  local url="postgres://stockstream:stockstream@127.0.0.1:$PORT/stockstream" out
  out="$(as_pg "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 "$url" <<'EOF'
SELECT 1;
SHOW wal_level;
SELECT count(*) FROM pg_create_logical_replication_slot('stockstream_smoke', 'pgoutput', true);
EOF
  )" || die "check failed"
  [ "$out" = "$(printf '1\nlogical\n1')" ] || die "unexpected answers: $out"
  echo "postgres check: select 1, wal_level=logical, logical slot ok at 127.0.0.1:$PORT as stockstream"
}

cmd_reset() {
  cmd_stop
  resolve_layout
  log "deleting $PGDATA_DIR"
  rm -rf "$PGDATA_DIR" "$BASE/postgres.log" "$BASE/initdb.log"
}

dispatch "$@"
