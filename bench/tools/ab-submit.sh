#!/usr/bin/env bash
# This checkout's submit path (its working tree, uncommitted changes included) against another
# revision's, on a machine whose speed drifts (a VM whose identical runs differed by 15 % within
# twenty minutes: BENCHMARKS.md, 2026-12-07 night). Each run is a fresh Spindle of the topology
# with no worker host (as figure 1), on a fresh database and namespace, with the `stamp` function,
# then request-cost.ts: submits at 32 in flight for the window after 3 s of warm-up, the submits
# per second and the CPU of every Spindle process per submit. The sides alternate A B, B A, ... so
# a drift weighs on both; each side's medians, their ratio (this checkout over the base) and the
# median of the pairs' ratios come last. Two revisions with the same submit path measured 0.94-1.08
# of each other by the medians of three pairs on that VM (1.025 and 0.976 by the pairs): a smaller
# change needs more pairs. The base runs from a git worktree of its revision, sharing this
# checkout's node_modules.
#   bench/tools/ab-submit.sh <base revision> [pairs (3)] [seconds (15)]
# with KAFKA_BROKERS set (Postgres at BENCH_POSTGRES_URL's server, as the benchmark);
# SPINDLE_TOPOLOGY picks the topology (node by default), AB_PORT the gateway's port (38180, and the
# six after it for the other processes). Both sides share node_modules, so a change inside a
# dependency (a patch of patches/) is compared with the same revision as the base and
# AB_BEFORE_SIDE, a command run before each side's Spindle starts with the side's name (`this` or
# `base`) as its argument, that puts the side's version of the dependency in place.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BASE_REV="${1:?usage: ab-submit.sh <base revision> [pairs] [seconds]}"
PAIRS="${2:-3}"
SECS="${3:-15}"
TOPOLOGY="${SPINDLE_TOPOLOGY:-node}"
PORT="${AB_PORT:-38180}"
SERVER="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
SERVER="${SERVER%/*}"
DB=spindle_ab
: "${KAFKA_BROKERS:?KAFKA_BROKERS must name the broker}"

BASE="$(mktemp -d /tmp/spindle-ab-base.XXXXXX)"
WORK="$(mktemp -d /tmp/spindle-ab.XXXXXX)"
git -C "$ROOT" worktree add --detach -q "$BASE" "$BASE_REV"
ln -s "$ROOT/node_modules" "$BASE/node_modules"
PIDS=""
NS="" # the running Spindle's namespace: each of its processes carries it in its environment
stop_spindle() {
  [ -n "$NS" ] && [ -z "$PIDS" ] && PIDS="$(pids_of "$NS")"
  [ -n "$PIDS" ] && kill -TERM ${PIDS//,/ } 2>/dev/null || true
  for _ in $(seq 1 60); do
    [ -z "$PIDS" ] && break
    local alive=""
    for pid in ${PIDS//,/ }; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.5
  done
  # Still there after 30 s: its ports must be free for the next run.
  [ -n "$PIDS" ] && kill -KILL ${PIDS//,/ } 2>/dev/null || true
  PIDS=""
  NS=""
}
# (grep fails on the files of processes that ended meanwhile: its status says nothing here.)
pids_of() {
  (grep -l "KAFKA_NAMESPACE=$1" /proc/[0-9]*/environ 2>/dev/null || true) | cut -d/ -f3 | paste -sd, -
}
cleanup() {
  stop_spindle
  git -C "$ROOT" worktree remove --force "$BASE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# A request of a run's set-up; refused, it says what came back, and the run stops.
set_up() {
  local status
  status="$(curl -s -o "$WORK/answer" -w '%{http_code}' "$@")"
  if [ "${status:0:1}" != 2 ]; then
    echo "ab-submit: $* answered $status: $(head -c 500 "$WORK/answer")" >&2
    exit 1
  fi
}

# One run of one side: request-cost.ts's JSON in $WORK/last.
run_side() {
  local tree="$1" label="$2"
  NS="ab-$label-$(date +%s)-$RANDOM"
  psql "$SERVER/postgres" -q -c "drop database if exists $DB with (force)" -c "create database $DB" > /dev/null 2>&1
  rm -rf "$WORK/data"
  (
    cd "$tree"
    env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production KAFKA_BROKERS="$KAFKA_BROKERS" \
      KAFKA_NAMESPACE="$NS" DATABASE_URL="$SERVER/$DB" SPINDLE_TOPOLOGY="$TOPOLOGY" \
      GATEWAY_PORT="$PORT" SCHEDULER_PORT=$((PORT + 1)) ARTIFACT_STORE_PORT=$((PORT + 2)) \
      LOG_COLLECTOR_PORT=$((PORT + 3)) SECRETS_PORT=$((PORT + 4)) PROJECTOR_PORT=$((PORT + 5)) \
      WORKER_PORT=$((PORT + 6)) MIST_PORT=0 ILUM_PORT=0 GENVID_PORT=0 APOLLO_PORT=0 \
      SPINDLE_DATA_DIR="$WORK/data" SPINDLE_AUTH=open SPINDLE_DIALECT_AUTH=open WORKER_SLOTS=0 \
      setsid node -r @swc-node/register apps/standalone/src/main.ts > "$WORK/$label.log" 2>&1 &
  )
  local url="http://127.0.0.1:$PORT"
  local up=""
  for _ in $(seq 1 240); do
    curl -sf "$url/health" > /dev/null 2>&1 && up=1 && break
    sleep 0.5
  done
  if [ -z "$up" ]; then
    grep -Ev '^[a-z,-]+ +\|     at ' "$WORK/$label.log" | tail -25 >&2
    echo "ab-submit: the $label side's Spindle did not come up" >&2
    exit 1
  fi
  # Every process of this Spindle: the supervisor and its parts.
  PIDS="$(pids_of "$NS")"
  printf 'exports.stamp = (args) => ({ ts: args.ts ?? null });\n' > "$WORK/stamp.js"
  set_up -F "file=@$WORK/stamp.js" "$url/api/v1/artifacts"
  set_up -XPOST "$url/api/v1/functions" -H 'content-type: application/json' \
    -d '{"name":"stamp","artifact":"stamp.js","entrypoint":"stamp","runtime":"node"}'
  (cd "$ROOT" && node -r @swc-node/register bench/tools/request-cost.ts \
    "$url/api/v1/functions/stamp/jobs" POST '{"args":{}}' "$PIDS" "$SECS" | tail -1) > "$WORK/last"
  stop_spindle
}

RESULTS="$WORK/results"
: > "$RESULTS"
for pair in $(seq 1 "$PAIRS"); do
  order="this base"
  [ $((pair % 2)) -eq 0 ] && order="base this"
  for side in $order; do
    tree="$ROOT"
    [ "$side" = base ] && tree="$BASE"
    if [ -n "${AB_BEFORE_SIDE:-}" ]; then $AB_BEFORE_SIDE "$side"; fi
    run_side "$tree" "$side"
    echo "pair $pair, $side: $(cat "$WORK/last")"
    echo "$side $(cat "$WORK/last")" >> "$RESULTS"
  done
done
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const of = (side) => lines.filter((l) => l.startsWith(side + " ")).map((l) => JSON.parse(l.slice(side.length + 1)));
  const [a, b] = [of("this"), of("base")];
  const rate = [median(a.map((r) => r.perSecond)), median(b.map((r) => r.perSecond))];
  const cpu = [median(a.map((r) => r.cpuMsPerRequest)), median(b.map((r) => r.cpuMsPerRequest))];
  console.log(`medians: this ${rate[0]} submits/s, ${cpu[0]} ms of Spindle CPU per submit; base ${rate[1]}/s, ${cpu[1]} ms`);
  console.log(`this / base, of the medians: submits/s ${(rate[0] / rate[1]).toFixed(3)}, CPU per submit ${(cpu[0] / cpu[1]).toFixed(3)}`);
  // Within a pair the two runs are minutes apart: their ratio drifts least with the machine.
  const pairs = a.map((r, i) => [r, b[i]]);
  const paired = (f) => median(pairs.map(([x, y]) => f(x) / f(y))).toFixed(3);
  console.log(`this / base, median of the pairs: submits/s ${paired((r) => r.perSecond)}, CPU per submit ${paired((r) => r.cpuMsPerRequest)}`);
' "$RESULTS"
