import type { BenchEnv } from '../lib/bench-env';
import { runLoad } from '../lib/load-generator';
import type { FigureReport } from '../lib/report';
import { SpindleApi } from '../lib/spindle-api';
import { recreateDatabase, startSpindle, withDatabase } from '../lib/spindle-server';
import type { SpindleServer } from '../lib/spindle-server';
import { DEFAULT_FETCH_WAIT_MS } from '@spindle/backbone';
import { startCommandFloor } from '../floor/command-floor';
import { startSubmitFloor } from '../floor/submit-floor';
import type { FloorServer } from '../floor/submit-floor';
import { costRows, costsOf, costsPer, cpuSecondsOf } from '../lib/costs';
import type { UnitCosts } from '../lib/costs';
import { perSecond, quantile, round, summarize } from '../lib/stats';
import { PROGRAMS } from '../fixtures/programs';
import { PEERS } from '../peers/peer-adapters';
import type { PeerConnections, PeerName } from '../peers/peer-adapters';
import { runPeer } from '../peers/peer-process';

// The idle row's slices (idleCpuPercent).
const IDLE_SLICE_MS = 5_000;

// Figure 1: durable submit throughput and latency at fixed concurrency. Spindle answers 202 only
// once the job is recorded; no worker host runs (WORKER_SLOTS=0), so only the submit path is
// measured, as the peers are measured enqueueing with no worker running. Afterwards every
// acknowledged job is looked up: acknowledged means kept.
export async function submitFigure(env: BenchEnv, peers: PeerConnections | null): Promise<FigureReport> {
  const { submitSeconds: seconds, submitConcurrency: concurrency } = env.sizes;
  const spindle = await startSpindle(env, 'submit', { WORKER_SLOTS: '0' });
  const upAt = Date.now();
  let load;
  let kept = 0;
  let costs: UnitCosts | undefined;
  let idlePercent = NaN;
  try {
    const api = new SpindleApi(spindle.url);
    await api.upload('stamp.js', PROGRAMS['stamp.js']);
    await api.createFunction({ name: 'stamp', artifact: 'stamp.js', entrypoint: 'stamp', runtime: 'node' });
    const plan = {
      url: `${spindle.url}/api/v1/functions/stamp/jobs`,
      method: 'POST' as const,
      body: JSON.stringify({ args: { ts: '__TS__' } }),
    };
    // Idle: what Spindle's processes burn with nothing to do (timers, heartbeats, polls), once
    // their start-up is over (Sizes.idleAfterMs).
    await new Promise((r) => setTimeout(r, Math.max(0, upAt + env.sizes.idleAfterMs - Date.now())));
    idlePercent = await idleCpuPercent(spindle, env.sizes.idleWindowMs);
    await runLoad({ ...plan, closed: { concurrency: 8, count: 500 } }); // warm-up
    const before = await costsOf(spindle);
    load = await runLoad({ ...plan, closed: { concurrency, seconds } });
    costs = costsPer(before, await costsOf(spindle), load.samples.filter((s) => s.status === 202).length);
    // Acknowledged means kept: every acknowledged job shows up in the list once the projector has
    // caught up (it may still be catching up when the load ends).
    const acknowledged = load.samples.flatMap((s) => (s.status === 202 && s.id ? [s.id] : []));
    let ids = new Set<string>();
    const deadline = Date.now() + 120_000;
    do {
      ids = new Set((await api.jobsOf('stamp')).map((j) => j.id));
      kept = acknowledged.filter((id) => ids.has(id)).length;
      if (kept < acknowledged.length) await new Promise((r) => setTimeout(r, 500));
    } while (kept < acknowledged.length && Date.now() < deadline);
  } finally {
    await spindle.stop();
  }
  const accepted = load.samples.filter((s) => s.status === 202);
  const latency = summarize(accepted.map((s) => s.ms));
  const rate = perSecond(accepted.length, load.endedAt - load.startedAt);
  const errors = load.samples.length - accepted.length;

  const floorDatabase = 'spindle_bench_floor';
  await recreateDatabase(env.postgresUrl, floorDatabase);
  const floorDatabaseUrl = withDatabase(env.postgresUrl, floorDatabase);
  const floorOf = (start: () => Promise<FloorServer>) => measureFloor(start, concurrency, seconds);
  const floor = {
    own: await floorOf(() => startSubmitFloor(floorDatabaseUrl, 'own')),
    grouped: await floorOf(() => startSubmitFloor(floorDatabaseUrl, 'grouped')),
    // Where the gateway sends its commands to the scheduler over Kafka, the floor has that hop too.
    command:
      env.topology === 'all'
        ? await floorOf(() =>
            startCommandFloor({
              databaseUrl: floorDatabaseUrl,
              brokers: env.kafkaBrokers.split(','),
              fetchWaitMs: DEFAULT_FETCH_WAIT_MS,
            }),
          )
        : null,
  };
  // The column: the floor of this topology's hops.
  const column = floor.command ?? floor.grouped;

  const peerResults: Partial<Record<PeerName, { perSecond: number; p50: number; p99: number }>> = {};
  if (peers) {
    for (const peer of PEERS) {
      const answer = await runPeer(peer, peers, { kind: 'submit', seconds, concurrency });
      if (answer.kind === 'submit')
        peerResults[peer] = { perSecond: answer.perSecond, p50: answer.latency.p50, p99: answer.latency.p99 };
    }
  }
  const of = (k: 'perSecond' | 'p50' | 'p99') =>
    Object.fromEntries(PEERS.filter((p) => peerResults[p]).map((p) => [p, peerResults[p]![k]]));
  return {
    figure: 'submit',
    title: `1. Durable submit, closed loop, ${concurrency} in flight, ${seconds} s`,
    rows: [
      {
        metric: 'submits acknowledged per second',
        unit: '/s',
        better: 'higher',
        spindle: rate,
        floor: column.perSecond,
        peers: of('perSecond'),
      },
      {
        metric: 'submit latency p50',
        unit: 'ms',
        better: 'lower',
        spindle: latency.p50,
        floor: column.p50,
        peers: of('p50'),
      },
      {
        metric: 'submit latency p95',
        unit: 'ms',
        better: 'lower',
        spindle: latency.p95,
        floor: column.p95,
      },
      {
        metric: 'submit latency p99',
        unit: 'ms',
        better: 'lower',
        spindle: latency.p99,
        floor: column.p99,
        peers: of('p99'),
      },
      { metric: 'errors', unit: 'count', better: 'lower', spindle: errors, floor: column.errors },
      ...costRows('per submit', costs).map((row, i) => (i === 0 ? { ...row, floor: column.cpuMs } : row)),
      {
        metric: "idle: CPU of Spindle's processes, % of one core (goal < 2)",
        unit: '%',
        better: 'lower',
        spindle: idlePercent,
      },
      {
        metric: 'acknowledged but not found afterwards',
        unit: 'count',
        better: 'lower',
        spindle: accepted.length - kept,
      },
    ],
    goals: [
      {
        id: 'G1',
        goal: '≥ 2 500 durable submits/s, p99 ≤ 30 ms',
        measured: `${rate}/s, p99 ${latency.p99} ms`,
        met: rate >= 2_500 && latency.p99 <= 30 && errors === 0,
      },
    ],
    notes: [
      'Spindle: HTTP POST /api/v1/functions/{name}/jobs through the gateway, answered once the job is committed ' +
        'and readable; peers: their enqueue call from a Node process (no HTTP), BullMQ into a Redis without persistence.',
      'Floor (bench/floor/submit-floor.ts): the same hops with no work in them, on the same Postgres server and ' +
        'load generator: Fastify answers 202 once the request is committed, every request that arrived during the ' +
        `previous commit in one insert (grouped${floor.command ? '' : ', the column'}). With a transaction per request instead: ${floor.own.perSecond}/s, ` +
        `p50 ${floor.own.p50} ms, p99 ${floor.own.p99} ms, CPU ${floor.own.cpuMs} ms per submit. A goal beyond the floor is ` +
        'out of reach of any design that keeps these hops on this machine.',
      ...(floor.command
        ? [
            'In this topology the column is the command floor (bench/floor/command-floor.ts): the gateway and the scheduler ' +
              'are two processes and the command crosses Kafka both ways, so the floor does too: a Fastify front sends ' +
              'each request to a topic (coalesced while a produce request is in flight), an owner process commits each ' +
              'fetched batch in one insert and replies in one produce request, the front answers 202 on the reply. ' +
              `Grouped, with no Kafka hop: ${floor.grouped.perSecond}/s, p99 ${floor.grouped.p99} ms, CPU ${floor.grouped.cpuMs} ms.`,
          ]
        : []),
      'Costs per submit (bench/lib/costs.ts: the CPU of every Spindle process from its own /metrics, the CPU of the ' +
        "Postgres server and of the Kafka broker from /proc (Spindle's CPU leaves both out), Postgres transactions and rows written in Spindle's " +
        'database, messages its relays published), from the first submit ' +
        'until every consumer is idle, so the projection of the jobs counts too. Targets: CPU ≤ 0.8 ms (2 500/s on ' +
        'two cores), transactions ≤ 0.3 (submits share the intake, relay and projector transactions), statements ≤ 1, 1 Kafka ' +
        'message (JobSubmitted, the floor), Kafka requests ≤ 0.1 (JobSubmitted produced and fetched by the projector, a ' +
        'request each shared by the ~20 submits of an intake batch; the all topology adds the command and its reply, ' +
        'produced and fetched: ≤ 0.3).',
      `Idle: the CPU of Spindle's processes over ${env.sizes.idleWindowMs / 1000} s, from ` +
        `${env.sizes.idleAfterMs / 1000} s after it was up, before any load: the median of its 5 s slices (each process ` +
        'compacts its start-up heap once, early: 5-12 % of a core for 5 s, up to 140 s after its start on a 2-core VM).',
    ],
  };
}

interface FloorMeasure {
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly errors: number;
  readonly cpuMs: number; // of the floor's process per submit
}

// The same closed loop against the submit floor: warm-up, then the measured window.
async function measureFloor(
  start: () => Promise<FloorServer>,
  concurrency: number,
  seconds: number,
): Promise<FloorMeasure> {
  const floor = await start();
  try {
    const plan = {
      url: `${floor.url}/jobs`,
      method: 'POST' as const,
      body: JSON.stringify({ args: { ts: '__TS__' } }),
    };
    await runLoad({ ...plan, closed: { concurrency: 8, count: 500 } });
    const cpuBefore = await floor.cpuSeconds();
    const load = await runLoad({ ...plan, closed: { concurrency, seconds } });
    const cpu = (await floor.cpuSeconds()) - cpuBefore;
    const accepted = load.samples.filter((s) => s.status === 202);
    const latency = summarize(accepted.map((s) => s.ms));
    return {
      perSecond: perSecond(accepted.length, load.endedAt - load.startedAt),
      p50: latency.p50,
      p95: latency.p95,
      p99: latency.p99,
      errors: load.samples.length - accepted.length,
      cpuMs: accepted.length > 0 ? round((cpu * 1000) / accepted.length, 2) : NaN,
    };
  } finally {
    await floor.stop();
  }
}

// Spindle's CPU over `windowMs` in 5 s slices (or one, if shorter), as % of one core: the median
// slice, by nearest rank (see Sizes.idleAfterMs). Each slice reads every process's /metrics once,
// counted too.
async function idleCpuPercent(spindle: SpindleServer, windowMs: number): Promise<number> {
  const sliceMs = Math.min(IDLE_SLICE_MS, windowMs);
  const slices: number[] = [];
  let from = { cpu: await cpuSecondsOf(spindle), at: Date.now() };
  for (let i = 0; i < Math.max(1, Math.floor(windowMs / sliceMs)); i++) {
    await new Promise((r) => setTimeout(r, sliceMs));
    const to = { cpu: await cpuSecondsOf(spindle), at: Date.now() };
    slices.push(((to.cpu - from.cpu) * 100_000) / (to.at - from.at));
    from = to;
  }
  slices.sort((a, b) => a - b);
  return round(quantile(slices, 0.5), 2);
}
