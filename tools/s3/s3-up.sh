#!/usr/bin/env bash
# Start an S3-compatible server (S3Proxy 2.6.0 over a filesystem backend) on 127.0.0.1:19000 from
# Maven Central jars: the storage of MapReduce jobs for tests and standalone. No Docker, no MinIO.
#
#   bash tools/s3/s3-up.sh        # idempotent: exits 0 if our server is already up
#   bash tools/s3/s3-down.sh      # stop it (its objects stay in $S3_STATE_DIR/objects-<port>)
#
# Environment:
#   S3_PORT             port (default 19000); the endpoint is http://127.0.0.1:$S3_PORT
#   S3_ACCESS_KEY       access key id clients sign with (default spindle)
#   S3_SECRET_KEY       its secret (default spindle-secret)
#   S3_STATE_DIR        jar cache, pid file and objects (default: <repo>/.s3, git-ignored)
#   S3_START_TIMEOUT    seconds to wait for the server (default 60)
#   S3_FRESH=1          start with no objects (tests)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="${S3_STATE_DIR:-$ROOT/.s3}"
HOST=127.0.0.1
PORT="${S3_PORT:-19000}"
TIMEOUT="${S3_START_TIMEOUT:-60}"

log() { echo "s3-up: $*"; }
err() { echo "s3-up: $*" >&2; }
for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { err "'$tool' not found on PATH"; exit 1; }
done

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
LIBS="$STATE/libs"
PIDFILE="$STATE/s3proxy-$PORT.pid"
OBJECTS="$STATE/objects-$PORT"

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" >/dev/null 2>&1; }
# true when $1 is a live S3Proxy (guards against a recycled pid)
is_server() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  ps -o args= -p "$1" 2>/dev/null | grep -q 'org\.gaul\.s3proxy\.Main'
}

exec 9>"$STATE/.lock-$PORT"
command -v flock >/dev/null 2>&1 && { flock -w 300 9 || { err "timed out waiting for $STATE/.lock-$PORT"; exit 1; }; }

if [ -f "$PIDFILE" ] && is_server "$(cat "$PIDFILE")" && port_open "$PORT"; then
  log "already running (pid $(cat "$PIDFILE")), answering on $HOST:$PORT; nothing to do"
  exit 0
fi
rm -f "$PIDFILE"
if port_open "$PORT"; then
  err "$HOST:$PORT is already in use by a process not started from $STATE"
  exit 1
fi

# --- jars (cached; refreshed when pom.xml changes) ----------------------------------------------
STAMP="$(sha1sum < "$HERE/pom.xml" | cut -d' ' -f1)"
if [ "$(cat "$LIBS/.complete" 2>/dev/null || true)" != "$STAMP" ]; then
  log "resolving S3Proxy jars with Maven into $LIBS (first run downloads from Maven Central)"
  TMP="$(mktemp -d "$STATE/libs-tmp.XXXXXX")"
  if ! mvn -B -q -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$TMP" < /dev/null 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'; then
    rm -rf "$TMP"; err "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"; exit 1
  fi
  rm -rf "$HERE/target"
  ls "$TMP"/s3proxy-*.jar >/dev/null 2>&1 || { rm -rf "$TMP"; err "no s3proxy jar was copied; check tools/s3/pom.xml"; exit 1; }
  rm -rf "$LIBS"; mv "$TMP" "$LIBS"; echo "$STAMP" > "$LIBS/.complete"
fi

[ "${S3_FRESH:-}" = 1 ] && rm -rf "$OBJECTS"
mkdir -p "$OBJECTS"
CONF="$STATE/s3proxy-$PORT.conf"
umask 077   # the file holds the secret key
cat > "$CONF" <<CONF
s3proxy.endpoint=http://$HOST:$PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3_ACCESS_KEY:-spindle}
s3proxy.credential=${S3_SECRET_KEY:-spindle-secret}
jclouds.provider=filesystem
jclouds.filesystem.basedir=$OBJECTS
CONF
LOGFILE="$STATE/s3proxy-$PORT.log"

cd "$STATE"
SETSID=(); command -v setsid >/dev/null 2>&1 && SETSID=(setsid)
nohup ${SETSID[@]+"${SETSID[@]}"} bash -c 'echo $$ > "$0"; exec "$@"' "$PIDFILE" \
  java -Xms64m -Xmx384m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  -Dlogback.configurationFile="$HERE/logback.xml" -cp "$LIBS/*" org.gaul.s3proxy.Main --properties "$CONF" \
  > "$LOGFILE" 2>&1 < /dev/null 9>&- &
for _ in $(seq 1 50); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
PID="$(cat "$PIDFILE")"
DEADLINE=$((SECONDS + TIMEOUT))
while :; do
  if port_open "$PORT"; then log "up: http://$HOST:$PORT (pid $PID, ${SECONDS} s, log $LOGFILE)"; exit 0; fi
  if ! kill -0 "$PID" 2>/dev/null; then
    err "S3Proxy exited during startup:"; tail -n 100 "$LOGFILE" >&2; rm -f "$PIDFILE"; exit 1
  fi
  if [ "$SECONDS" -ge "$DEADLINE" ]; then
    err "S3Proxy did not answer within ${TIMEOUT} s; stopping it"; kill -KILL "$PID" 2>/dev/null || true
    tail -n 100 "$LOGFILE" >&2; rm -f "$PIDFILE"; exit 1
  fi
  sleep 0.3
done
