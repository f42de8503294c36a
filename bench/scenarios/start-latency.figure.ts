import type { BenchEnv } from '../lib/bench-env';
import { runLoad } from '../lib/load-generator';
import type { FigureReport, Row } from '../lib/report';
import { SpindleApi, settledJobs } from '../lib/spindle-api';
import { DEFAULT_FETCH_WAIT_MS } from '@spindle/backbone';
import { recreateDatabase, startSpindle, withDatabase } from '../lib/spindle-server';
import { summarize } from '../lib/stats';
import { startStartFloor } from '../floor/start-floor';
import type { StartFloor } from '../floor/start-floor';
import type { LatencySummary } from '../lib/stats';
import { warmStamp } from '../fixtures/warm-stamp';
import { PEERS } from '../peers/peer-adapters';
import type { PeerConnections, PeerName } from '../peers/peer-adapters';
import { runPeer } from '../peers/peer-process';

// Figure 2: submit → process start on a warm shared worker, open loop at fixed offered rates. The
// job itself stamps the moment its code is entered; the submit time travels in its arguments, so
// the latency is measured on one clock without trusting any of Spindle's own timestamps.
export async function startLatencyFigure(
  env: BenchEnv,
  peers: PeerConnections | null,
): Promise<FigureReport> {
  const { openLoopSeconds: seconds, openLoopRates: rates } = env.sizes;
  const spindle = await startSpindle(env, 'start');
  const ours = new Map<number, { start: LatencySummary; submit: LatencySummary; lost: number }>();
  try {
    const api = new SpindleApi(spindle.url);
    const plan = await warmStamp(api);
    for (const rate of rates) {
      const load = await runLoad({ ...plan, open: { rate, seconds } });
      const accepted = load.samples.filter((s) => s.status === 202 && s.id);
      const jobs = await settledJobs(api, 'stamp', new Set(accepted.map((s) => s.id!)), env.sizes.settleMs);
      const starts = jobs.flatMap((j) => {
        const r = j.result as { ts?: number; at?: number } | null;
        return j.state === 'succeeded' && typeof r?.ts === 'number' && typeof r.at === 'number'
          ? [r.at - r.ts]
          : [];
      });
      ours.set(rate, {
        start: summarize(starts),
        submit: summarize(accepted.map((s) => s.ms)),
        lost: load.samples.length - starts.length,
      });
    }
  } finally {
    await spindle.stop();
  }
  const floor = await measureFloor(env);
  const theirs = new Map<number, Partial<Record<PeerName, LatencySummary>>>();
  if (peers) {
    for (const rate of rates) {
      const byPeer: Partial<Record<PeerName, LatencySummary>> = {};
      for (const peer of PEERS) {
        const answer = await runPeer(peer, peers, { kind: 'latency', rate, seconds });
        if (answer.kind === 'latency') byPeer[peer] = answer.latency;
      }
      theirs.set(rate, byPeer);
    }
  }
  const rows: Row[] = [];
  for (const rate of rates) {
    const o = ours.get(rate)!;
    const f = floor.get(rate)!;
    const t = theirs.get(rate) ?? {};
    const peerOf = (k: 'p50' | 'p95' | 'p99') =>
      Object.fromEntries(PEERS.filter((p) => t[p]).map((p) => [p, t[p]![k]]));
    rows.push(
      {
        metric: `submit → start p50 @${rate}/s`,
        unit: 'ms',
        better: 'lower',
        spindle: o.start.p50,
        floor: f.start.p50,
        peers: peerOf('p50'),
      },
      {
        metric: `submit → start p95 @${rate}/s`,
        unit: 'ms',
        better: 'lower',
        spindle: o.start.p95,
        floor: f.start.p95,
        peers: peerOf('p95'),
      },
      {
        metric: `submit → start p99 @${rate}/s`,
        unit: 'ms',
        better: 'lower',
        spindle: o.start.p99,
        floor: f.start.p99,
        peers: peerOf('p99'),
      },
      {
        metric: `HTTP submit answered p99 @${rate}/s`,
        unit: 'ms',
        better: 'lower',
        spindle: o.submit.p99,
        floor: f.submit.p99,
      },
      {
        metric: `jobs not started @${rate}/s`,
        unit: 'count',
        better: 'lower',
        spindle: o.lost,
        floor: f.lost,
      },
    );
  }
  const top = ours.has(500) ? 500 : Math.max(...rates);
  const at500 = ours.get(top)!;
  const floorAt500 = floor.get(top)!;
  return {
    figure: 'start-latency',
    title: `2. Submit → process start on a warm shared worker, open loop, ${seconds} s per rate`,
    rows,
    goals: [
      {
        id: 'G3',
        goal: 'submit → start p50 ≤ 15 ms, p99 ≤ 50 ms at 500/s',
        measured: `p50 ${at500.start.p50} ms, p99 ${at500.start.p99} ms (the floor's: p50 ${floorAt500.start.p50} ms, p99 ${floorAt500.start.p99} ms)`,
        met: at500.start.p50 <= 15 && at500.start.p99 <= 50 && at500.lost === 0,
      },
    ],
    notes: [
      'Spindle: HTTP submit → gateway → scheduler → Kafka → worker host → the shared node runner calls the function; ' +
        'peers: enqueue → their worker calls the handler in the same Node process family (no process boundary to a runner).',
      'Floor (bench/floor/start-floor.ts): the same hops with no work in them, in three processes as the node topology: ' +
        'HTTP in, the submits that arrived during the previous commit committed in one insert, 202, then one produce ' +
        'request to Kafka straight from memory (no outbox read, no decision, no events); a worker process fetches it ' +
        '(the bus fetch wait) and hands each job over IPC to a runner process, which stamps the call. Same load generator, ' +
        'Postgres server and broker. A goal below the floor is out of reach of a design that commits a submit before it ' +
        'answers and carries assignments on Kafka, on this machine.',
    ],
  };
}

// The same open loop against the start floor, rate by rate.
async function measureFloor(
  env: BenchEnv,
): Promise<Map<number, { start: LatencySummary; submit: LatencySummary; lost: number }>> {
  const { openLoopSeconds: seconds, openLoopRates: rates, settleMs } = env.sizes;
  const database = 'spindle_bench_start_floor';
  await recreateDatabase(env.postgresUrl, database);
  const floor = await startStartFloor({
    databaseUrl: withDatabase(env.postgresUrl, database),
    brokers: env.kafkaBrokers.split(','),
    topic: 'spindle-bench-start-floor',
    fetchWaitMs: DEFAULT_FETCH_WAIT_MS,
  });
  const measured = new Map<number, { start: LatencySummary; submit: LatencySummary; lost: number }>();
  try {
    const plan = {
      url: `${floor.url}/jobs`,
      method: 'POST' as const,
      body: JSON.stringify({ args: { ts: '__TS__' } }),
    };
    // Warm-up, as warmStamp's: connections up, code loaded.
    const warm = await runLoad({ ...plan, open: { rate: 50, seconds: 2 } });
    let seen = await settledStarts(floor, warm.samples.filter((s) => s.status === 202).length, settleMs);
    for (const rate of rates) {
      const load = await runLoad({ ...plan, open: { rate, seconds } });
      const accepted = load.samples.filter((s) => s.status === 202);
      const all = await settledStarts(floor, seen.length + accepted.length, settleMs);
      const starts = all.slice(seen.length);
      seen = all;
      measured.set(rate, {
        start: summarize([...starts]),
        submit: summarize(accepted.map((s) => s.ms)),
        lost: load.samples.length - starts.length,
      });
    }
  } finally {
    await floor.stop();
  }
  return measured;
}

// The floor's starts once there are `count` of them, or what there is after `settleMs`.
async function settledStarts(floor: StartFloor, count: number, settleMs: number): Promise<readonly number[]> {
  const until = Date.now() + settleMs;
  for (;;) {
    const starts = await floor.starts();
    if (starts.length >= count || Date.now() > until) return starts;
    await new Promise((r) => setTimeout(r, 50));
  }
}
