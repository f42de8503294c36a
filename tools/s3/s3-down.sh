#!/usr/bin/env bash
# Stop the S3Proxy started by tools/s3/s3-up.sh on $S3_PORT (default 19000). Its objects stay.
# Safe to run when nothing is running. Honours S3_STATE_DIR.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${S3_STATE_DIR:-$(cd "$HERE/../.." && pwd)/.s3}"
PORT="${S3_PORT:-19000}"
PIDFILE="$STATE/s3proxy-$PORT.pid"
PID="$(cat "$PIDFILE" 2>/dev/null || true)"
if [ -z "$PID" ] || ! kill -0 "$PID" 2>/dev/null || ! ps -o args= -p "$PID" | grep -q 'org\.gaul\.s3proxy\.Main'; then
  echo "s3-down: not running on port $PORT"; rm -f "$PIDFILE"; exit 0
fi
kill -TERM "$PID" 2>/dev/null || true
for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
kill -KILL "$PID" 2>/dev/null || true
rm -f "$PIDFILE"
echo "s3-down: stopped (pid $PID)"
