#!/usr/bin/env bash
# Profiles one Spindle process (standalone over Kafka) under a closed-loop submit load and prints
# where its CPU went. Usage: bench/tools/profile-submit.sh [seconds] [concurrency] [extra env...]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-15}"; CONC="${2:-32}"; shift 2 || true
PORT="${PROFILE_PORT:-38089}"; DB=spindle_profile; OUT="$(mktemp -d /tmp/spindle-prof.XXXXXX)"
psql -h 127.0.0.1 -U postgres -q -c "drop database if exists $DB with (force)" -c "create database $DB" >/dev/null 2>&1
# SPINDLE_AUTH=open: the load carries no API key (as the benchmark's Spindle, bench/lib/spindle-server.ts).
env ${KAFKA_BROKERS:+KAFKA_BROKERS="$KAFKA_BROKERS"} DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" \
  GATEWAY_PORT="$PORT" MIST_PORT=0 SPINDLE_DATA_DIR="$OUT/data" SPINDLE_AUTH=open "$@" \
  node --cpu-prof --cpu-prof-dir="$OUT" -r @swc-node/register apps/standalone/src/main.ts > "$OUT/spindle.log" 2>&1 &
PID=$!
until grep -q "Spindle is up" "$OUT/spindle.log" 2>/dev/null; do sleep 0.5; kill -0 $PID || { cat "$OUT/spindle.log"; exit 1; }; done
U="http://127.0.0.1:$PORT"
printf 'exports.stamp = (args) => ({ ts: args.ts ?? null, at: performance.timeOrigin + performance.now() });\n' > "$OUT/stamp.js"
curl -sf -F "file=@$OUT/stamp.js" "$U/api/v1/artifacts" > /dev/null
curl -sf -XPOST "$U/api/v1/functions" -H 'content-type: application/json' \
  -d '{"name":"stamp","artifact":"stamp.js","entrypoint":"stamp","runtime":"node"}' > /dev/null
node -r @swc-node/register bench/tools/closed-loop.ts "$U/api/v1/functions/stamp/jobs" "$CONC" "$SECS"
kill -TERM $PID; wait $PID || true
# One profile per process: with Kafka, the supervisor and each part of the node topology (named by
# the log's "<part> | [Nest] <pid>" prefix).
for profile in "$OUT"/*.cpuprofile; do
  pid=$(basename "$profile" | cut -d. -f4)
  part=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/spindle.log" | grep -m1 -oE "^[a-z,-]+ +\| \[Nest\] $pid " | cut -d" " -f1 || true)
  echo "== ${part:-supervisor} (pid $pid): $profile"
  node -r @swc-node/register bench/tools/profile-summary.ts "$profile" 40
done
echo "profile and log in $OUT"
