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
# With AB_TOGETHER=1 the two sides of a pair run at the same time instead (the base on the ports
# ten above this checkout's, each side loaded by its own request-cost.ts): whatever the machine
# does meanwhile weighs on both alike. Each side then has about half of the machine, so its rates
# are lower than alone; its CPU per submit is what to compare (BENCHMARKS.md, 2026-12-08, later).
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
if [ -n "${AB_TOGETHER:-}" ] && [ -n "${AB_BEFORE_SIDE:-}" ]; then
  echo "ab-submit: AB_BEFORE_SIDE needs the sides one after the other (they share node_modules)" >&2
  exit 2
fi

BASE="$(mktemp -d /tmp/spindle-ab-base.XXXXXX)"
WORK="$(mktemp -d /tmp/spindle-ab.XXXXXX)"
git -C "$ROOT" worktree add --detach -q "$BASE" "$BASE_REV"
ln -s "$ROOT/node_modules" "$BASE/node_modules"
# Every process of a running side's Spindle, by the namespace in its environment.
declare -A NS_OF=()
# (grep fails on the files of processes that ended meanwhile: its status says nothing here.)
pids_of() {
  (grep -l "KAFKA_NAMESPACE=$1" /proc/[0-9]*/environ 2>/dev/null || true) | cut -d/ -f3 | paste -sd, -
}
stop_side() {
  local ns="${NS_OF[$1]:-}" pids
  [ -z "$ns" ] && return 0
  pids="$(pids_of "$ns")"
  [ -n "$pids" ] && kill -TERM ${pids//,/ } 2>/dev/null || true
  for _ in $(seq 1 60); do
    [ -z "$pids" ] && break
    local alive=""
    for pid in ${pids//,/ }; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.5
  done
  # Still there after 30 s: its ports must be free for the next run.
  [ -n "$pids" ] && kill -KILL ${pids//,/ } 2>/dev/null || true
  unset "NS_OF[$1]"
}
cleanup() {
  for side in "${!NS_OF[@]}"; do stop_side "$side"; done
  for side in this base; do
    psql "$SERVER/postgres" -q -c "drop database if exists ${DB}_$side with (force)" > /dev/null 2>&1 || true
  done
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

# Starts one side's Spindle on its own database and ports, with the `stamp` function; its
# processes go to $WORK/<side>.pids.
start_side() {
  local side="$1" tree="$ROOT" port="$PORT"
  [ "$side" = base ] && tree="$BASE"
  [ "$side" = base ] && [ -n "${AB_TOGETHER:-}" ] && port=$((PORT + 10))
  local ns="ab-$side-$(date +%s)-$RANDOM" db="${DB}_$side"
  NS_OF[$side]="$ns"
  psql "$SERVER/postgres" -q -c "drop database if exists $db with (force)" -c "create database $db" > /dev/null 2>&1
  rm -rf "$WORK/data-$side"
  (
    cd "$tree"
    env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production KAFKA_BROKERS="$KAFKA_BROKERS" \
      KAFKA_NAMESPACE="$ns" DATABASE_URL="$SERVER/$db" SPINDLE_TOPOLOGY="$TOPOLOGY" \
      GATEWAY_PORT="$port" SCHEDULER_PORT=$((port + 1)) ARTIFACT_STORE_PORT=$((port + 2)) \
      LOG_COLLECTOR_PORT=$((port + 3)) SECRETS_PORT=$((port + 4)) PROJECTOR_PORT=$((port + 5)) \
      WORKER_PORT=$((port + 6)) MIST_PORT=0 ILUM_PORT=0 GENVID_PORT=0 APOLLO_PORT=0 \
      SPINDLE_DATA_DIR="$WORK/data-$side" SPINDLE_AUTH=open SPINDLE_DIALECT_AUTH=open WORKER_SLOTS=0 \
      setsid node -r @swc-node/register apps/standalone/src/main.ts > "$WORK/$side.log" 2>&1 &
  )
  local url="http://127.0.0.1:$port"
  local up=""
  for _ in $(seq 1 240); do
    curl -sf "$url/health" > /dev/null 2>&1 && up=1 && break
    sleep 0.5
  done
  if [ -z "$up" ]; then
    grep -Ev '^[a-z,-]+ +\|     at ' "$WORK/$side.log" | tail -25 >&2
    echo "ab-submit: the $side side's Spindle did not come up" >&2
    exit 1
  fi
  pids_of "$ns" > "$WORK/$side.pids"
  echo "$url" > "$WORK/$side.url"
  printf 'exports.stamp = (args) => ({ ts: args.ts ?? null });\n' > "$WORK/stamp.js"
  set_up -F "file=@$WORK/stamp.js" "$url/api/v1/artifacts"
  set_up -XPOST "$url/api/v1/functions" -H 'content-type: application/json' \
    -d '{"name":"stamp","artifact":"stamp.js","entrypoint":"stamp","runtime":"node"}'
}

# Loads a started side: request-cost.ts's JSON in $WORK/<side>.last.
load_side() {
  (cd "$ROOT" && node -r @swc-node/register bench/tools/request-cost.ts \
    "$(cat "$WORK/$1.url")/api/v1/functions/stamp/jobs" POST '{"args":{}}' "$(cat "$WORK/$1.pids")" "$SECS" |
    tail -1) > "$WORK/$1.last"
}

RESULTS="$WORK/results"
: > "$RESULTS"
for pair in $(seq 1 "$PAIRS"); do
  order="this base"
  [ $((pair % 2)) -eq 0 ] && order="base this"
  if [ -n "${AB_TOGETHER:-}" ]; then
    for side in $order; do start_side "$side"; done
    load_side this & load_side base & wait
    for side in $order; do stop_side "$side"; done
  fi
  for side in $order; do
    if [ -z "${AB_TOGETHER:-}" ]; then
      if [ -n "${AB_BEFORE_SIDE:-}" ]; then $AB_BEFORE_SIDE "$side"; fi
      start_side "$side"
      load_side "$side"
      stop_side "$side"
    fi
    echo "pair $pair, $side: $(cat "$WORK/$side.last")"
    echo "$side $(cat "$WORK/$side.last")" >> "$RESULTS"
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
