#!/usr/bin/env bash
# Stop the broker started by tools/kafka/kafka-up.sh and delete its data dir.
# Safe to run when nothing is running. Keeps the jar cache (libs-*). Honours KAFKA_STATE_DIR.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${KAFKA_STATE_DIR:-$(cd "$HERE/../.." && pwd)/.kafka}"
PIDFILE="$STATE/kafka.pid"
DATAFILE="$STATE/kafka.data"

log() { echo "kafka-down: $*"; }
is_broker() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  ps -o args= -p "$1" 2>/dev/null | grep -q 'kafka\.Kafka'
}
cleanup() { rm -rf "$STATE"/data.* 2>/dev/null || true; rm -f "$PIDFILE" "$DATAFILE"; }

[ -d "$STATE" ] || { log "not running (no $STATE)"; exit 0; }
# Serialize with kafka-up.sh (which sets KAFKA_LOCK_HELD when it calls us while holding the lock).
if [ -z "${KAFKA_LOCK_HELD:-}" ] && command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE/.lock"
  flock -w 300 9 || { echo "kafka-down: timed out waiting for $STATE/.lock" >&2; exit 1; }
fi
PID="$(cat "$PIDFILE" 2>/dev/null || true)"
if [ -z "$PID" ]; then
  log "not running (no pid file)"
  cleanup
  exit 0
fi
if ! is_broker "$PID"; then
  log "not running (stale pid file: pid $PID is not a running broker); cleaned up"
  cleanup
  exit 0
fi

T0=$SECONDS
kill -TERM "$PID" 2>/dev/null || true
for _ in $(seq 1 60); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$PID" 2>/dev/null; then
  log "pid $PID still alive after 30 s; sending SIGKILL"
  kill -KILL "$PID" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
fi
cleanup
log "stopped pid $PID ($((SECONDS - T0)) s)"
