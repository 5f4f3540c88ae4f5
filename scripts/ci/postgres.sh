#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster (with pgvector) for CI and local development.
#
#   scripts/ci/postgres.sh start   build/install pgvector if missing, start a fresh cluster, print its URL
#   scripts/ci/postgres.sh url     print the URL of the cluster (or of the one `start` would create)
#   scripts/ci/postgres.sh stop    stop the cluster and delete its data
#   scripts/ci/postgres.sh running exit 0 if the recorded cluster is up (so a caller that finds one
#                                  running can reuse it and leave it running)
#
# Env: PGPORT_CI (default 54329), GW_CI_PG_STATE (default /tmp/gw-ci-pg.state).
# Progress goes to stderr so that `url=$(scripts/ci/postgres.sh start)` captures only the URL.
set -euo pipefail

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
PORT=${PGPORT_CI:-54329}
STATE_FILE=${GW_CI_PG_STATE:-/tmp/gw-ci-pg.state}
# Only a deb-src line: trixie is used to fetch pgvector's source, never its binaries.
TRIXIE_SRC_LIST=/etc/apt/sources.list.d/gw-ci-trixie-src.sources

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# initdb/postgres refuse to run as root, so root runs them as the postgres user.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# --- pgvector ---------------------------------------------------------------

pgvector_installed() {
  [[ -f $("$PG_CONFIG" --pkglibdir)/vector.so && -f $("$PG_CONFIG" --sharedir)/extension/vector.control ]]
}

add_trixie_src() {
  # Mirrors the deb822 style of /etc/apt/sources.list.d/debian.sources.
  cat >"$TRIXIE_SRC_LIST" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

apt_get() {
  # Wait for a concurrent apt/dpkg instead of failing on its lock.
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@"
}

build_pgvector() {
  local work src
  work=$(mktemp -d /tmp/gw-ci-pgvector.XXXXXX)
  chown _apt "$work" 2>/dev/null || true  # lets apt download as its sandbox user, without a warning
  # Remove the trixie source entry and build dir even if a step fails, so apt stays as we found it.
  trap "rm -rf '$work' '$TRIXIE_SRC_LIST'" EXIT
  add_trixie_src
  apt_get update >&2
  apt_get install -y --no-install-recommends "postgresql-server-dev-$PG_MAJOR" build-essential >&2
  (cd "$work" && apt_get source --download-only pgvector >&2)
  dpkg-source -x "$work"/pgvector_*.dsc "$work/src" >&2
  src=$work/src
  # OPTFLAGS='' drops -march=native so the .so also runs if the image moves to another CPU.
  make -C "$src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS='' >&2
  make -C "$src" install PG_CONFIG="$PG_CONFIG" OPTFLAGS='' >&2
  rm -rf "$work" "$TRIXIE_SRC_LIST"
  trap - EXIT
}

ensure_pgvector() {
  if pgvector_installed; then
    log "pgvector already installed for PostgreSQL $PG_MAJOR, skipping build"
    return
  fi
  if ! is_root; then
    die "pgvector is missing ($("$PG_CONFIG" --pkglibdir)/vector.so); run this script as root once, or install it yourself:
  apt-get install postgresql-server-dev-$PG_MAJOR build-essential, then build pgvector 0.8 with
  make PG_CONFIG=$PG_CONFIG && make install PG_CONFIG=$PG_CONFIG"
  fi
  log "building pgvector for PostgreSQL $PG_MAJOR"
  local t0=$SECONDS
  build_pgvector
  pgvector_installed || die "pgvector build finished but vector.so/vector.control are not installed"
  log "pgvector installed in $((SECONDS - t0)) s"
}

# --- cluster state ----------------------------------------------------------

# State file: one KEY=VALUE per line (DIR, PORT); read back without eval.
state_get() {
  [[ -f $STATE_FILE ]] || return 1
  sed -n "s/^$1=//p" "$STATE_FILE" | tail -n 1
}

url_for() { printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$1"; }

cluster_running() {
  local dir
  dir=$(state_get DIR) || return 1
  [[ -n $dir && -d $dir/data ]] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# --- commands ---------------------------------------------------------------

cmd_start() {
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL $PG_MAJOR server binaries not found in $PG_BIN"
  ensure_pgvector

  if cluster_running; then
    log "cluster already running ($(state_get DIR)), reusing it"
    url_for "$(state_get PORT)"
    return
  fi
  if [[ -f $STATE_FILE ]]; then cmd_stop; fi  # leftover state from a dead cluster

  local dir
  dir=$(mktemp -d /tmp/gw-ci-pg.XXXXXX)
  chmod 755 "$dir"  # lets other local users reach the socket dir
  if is_root; then chown postgres: "$dir"; fi
  printf 'DIR=%s\nPORT=%s\n' "$dir" "$PORT" >"$STATE_FILE"
  as_pg mkdir "$dir/sock"

  log "initdb in $dir/data"
  as_pg "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

  log "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$PORT"
  # fsync=off: throwaway data, and it makes tests much faster.
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $PORT -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >&2 \
    || { cat "$dir/server.log" >&2; die "PostgreSQL did not start (is port $PORT taken? set PGPORT_CI)"; }

  url_for "$PORT"
}

cmd_stop() {
  local dir
  if ! dir=$(state_get DIR) || [[ -z $dir ]]; then
    log "no cluster recorded in $STATE_FILE, nothing to stop"
    return
  fi
  if [[ -d $dir/data ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 2>/dev/null || log "cluster in $dir was not running"
  fi
  # Only ever delete directories this script created.
  if [[ $dir == /tmp/gw-ci-pg.* ]]; then rm -rf "$dir"; fi
  rm -f "$STATE_FILE"
  log "stopped and removed $dir"
}

cmd_url() {
  url_for "$(state_get PORT || echo "$PORT")"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) cmd_url ;;
  running) cluster_running ;;
  *) echo "usage: $0 start|stop|url|running" >&2; exit 2 ;;
esac
