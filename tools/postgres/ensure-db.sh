#!/usr/bin/env bash
# Make sure the database named in DATABASE_URL exists (create it when missing).
#
#   bash tools/postgres/ensure-db.sh [URL]
#
# URL: first argument, else $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/spindle
# (postgres:// or postgresql://, optional :password, optional port, %-escapes and ?host=/socket/dir allowed).
# Waits up to PG_WAIT_SECONDS (default 30) for the server to accept connections (pg_isready, else psql),
# then checks and creates the database through the maintenance database (PG_MAINTENANCE_DB, default
# "postgres") of the same server. Idempotent.
set -euo pipefail

URL="${1:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/spindle}}"
WAIT="${PG_WAIT_SECONDS:-30}"
MAINT_DB="${PG_MAINTENANCE_DB:-postgres}"

log() { echo "ensure-db: $*"; }
err() { echo "ensure-db: $*" >&2; }
command -v psql >/dev/null 2>&1 || { err "psql not found on PATH"; exit 1; }

# --- parse the URL into PGHOST/PGPORT/PGUSER/PGPASSWORD and DB_NAME ------------------------------
if command -v python3 >/dev/null 2>&1; then
  # NUL-separated: host, port, user, password, dbname
  mapfile -d '' -t PARTS < <(python3 - "$URL" <<'PY'
import sys
from urllib.parse import urlsplit, unquote, parse_qs
u = urlsplit(sys.argv[1])
if u.scheme not in ("postgres", "postgresql"):
    sys.exit("unsupported scheme %r (expected postgres:// or postgresql://)" % u.scheme)
q = parse_qs(u.query)
host = q.get("host", [None])[0] or (unquote(u.hostname) if u.hostname else "") or "127.0.0.1"
try:
    port = str(u.port or q.get("port", ["5432"])[0])
except ValueError as e:
    sys.exit("bad port: %s" % e)
user = unquote(u.username) if u.username else q.get("user", ["postgres"])[0]
password = unquote(u.password) if u.password is not None else q.get("password", [""])[0]
db = unquote(u.path[1:]) if u.path.startswith("/") else unquote(u.path)
if not db:
    sys.exit("no database name in the URL")
sys.stdout.write("\0".join([host, port, user, password, db]) + "\0")
PY
  ) || true
  [ "${#PARTS[@]}" -eq 5 ] || { err "cannot parse DATABASE_URL '$URL'"; exit 2; }
  PGHOST="${PARTS[0]}" PGPORT="${PARTS[1]}" PGUSER="${PARTS[2]}" PGPASSWORD="${PARTS[3]}" DB_NAME="${PARTS[4]}"
else
  # bash fallback: scheme://[user[:password]@]host[:port]/dbname[?params] (no %-decoding, no IPv6 literals)
  re='^postgres(ql)?://(([^:@/]*)(:([^@/]*))?@)?([^:/?]*)(:([0-9]+))?/([^?]+)(\?.*)?$'
  [[ "$URL" =~ $re ]] || { err "cannot parse DATABASE_URL '$URL'"; exit 2; }
  PGUSER="${BASH_REMATCH[3]:-postgres}" PGPASSWORD="${BASH_REMATCH[5]}"
  PGHOST="${BASH_REMATCH[6]:-127.0.0.1}" PGPORT="${BASH_REMATCH[8]:-5432}" DB_NAME="${BASH_REMATCH[9]}"
fi
export PGHOST PGPORT PGUSER PGCONNECT_TIMEOUT=5
if [ -n "$PGPASSWORD" ]; then export PGPASSWORD; else unset PGPASSWORD; fi
WHERE="$PGUSER@$PGHOST:$PGPORT"

# --- wait for the server -----------------------------------------------------------------------
ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 2 -d "$MAINT_DB"
  else
    psql -X -q -d "$MAINT_DB" -tAc 'SELECT 1' >/dev/null 2>&1
  fi
}
T0=$SECONDS
until ready; do
  if [ $((SECONDS - T0)) -ge "$WAIT" ]; then
    err "PostgreSQL at $PGHOST:$PGPORT not accepting connections after ${WAIT} s"
    exit 1
  fi
  sleep 1
done
[ $((SECONDS - T0)) -gt 0 ] && log "server at $PGHOST:$PGPORT ready after $((SECONDS - T0)) s"

# --- check and create --------------------------------------------------------------------------
# The name goes through psql variables (:'db' literal, :"db" identifier), so any name is quoted
# correctly; variables are only interpolated in script input, hence the here-strings.
psql_maint() { psql -X -q -v ON_ERROR_STOP=1 -v db="$DB_NAME" -d "$MAINT_DB" -tA "$@"; }
exists() {
  local out
  out="$(psql_maint <<< "SELECT 1 FROM pg_database WHERE datname = :'db';")" || return 2
  [ "$out" = 1 ]
}

if exists; then
  log "database \"$DB_NAME\" already exists on $WHERE; nothing to do"
  exit 0
elif [ $? -eq 2 ]; then
  err "cannot query $MAINT_DB on $WHERE (see psql error above)"
  exit 1
fi
if ! psql_maint <<< 'CREATE DATABASE :"db";'; then
  # lost a race against a concurrent ensure-db? then it exists now and that is fine
  if exists; then log "database \"$DB_NAME\" was created concurrently on $WHERE"; exit 0; fi
  err "could not create database \"$DB_NAME\" on $WHERE"
  exit 1
fi
log "created database \"$DB_NAME\" on $WHERE"
