import type { BenchEnv } from '../lib/bench-env';
import { runLoad } from '../lib/load-generator';
import type { LoadPlan } from '../lib/load-generator';
import type { FigureReport } from '../lib/report';
import { SpindleApi, settledJobs } from '../lib/spindle-api';
import type { JobRow } from '../lib/spindle-api';
import { startSpindle } from '../lib/spindle-server';
import { costRows, costsOf, costsPer } from '../lib/costs';
import type { UnitCosts } from '../lib/costs';
import { perSecond, summarize } from '../lib/stats';
import type { LatencySummary } from '../lib/stats';
import { noopFunctions } from '../fixtures/noop-functions';
import { PEERS } from '../peers/peer-adapters';
import type { PeerConnections, PeerName } from '../peers/peer-adapters';
import { runPeer } from '../peers/peer-process';

interface Drain {
  readonly perSecond: number;
  readonly latency: LatencySummary;
  readonly notFinished: number; // acknowledged, but not succeeded by the end of the wait
  readonly refused: number; // submits answered other than 202 (nothing acknowledged)
  readonly what: string[]; // the states and answers behind both counts
}

// Figure 3: no-op jobs from submit to finished, as fast as they go: `shared` (a warm node runner)
// and `exclusive` (a fresh process per job, the way Mist's exclusive contexts run). Throughput is
// the finished jobs over the span from the first submit to the last finish, both read back from
// the API; latency is each job's createdAt → finishedAt. Then the exclusive mode once more at a
// fixed offered rate, for the latency a user sees when the system is not saturated.
export async function noopFigure(env: BenchEnv, peers: PeerConnections | null): Promise<FigureReport> {
  const { noopShared, noopExclusive, steadyRate: offered, steadySeconds } = env.sizes;
  const spindle = await startSpindle(env, 'noop');
  let shared: Drain;
  let exclusive: Drain;
  let steady: Drain;
  let sharedCosts: UnitCosts;
  let exclusiveCosts: UnitCosts;
  try {
    const api = new SpindleApi(spindle.url);
    await noopFunctions(api);
    await api.createFunction({
      name: 'noop-steady',
      artifact: 'noop.sh',
      entrypoint: '',
      runtime: 'exec',
      defaultContext: 'solo',
    });
    const plan = (fn: string): Omit<LoadPlan, 'open' | 'closed'> => ({
      url: `${spindle.url}/api/v1/functions/${fn}/jobs`,
      method: 'POST',
      body: JSON.stringify({ args: {} }),
    });
    const warm = await runLoad({ ...plan('noop-shared'), closed: { concurrency: 4, count: 100 } });
    await settledJobs(api, 'noop-shared', ids(warm.samples), 60_000);
    const beforeShared = await costsOf(spindle);
    shared = await drain(
      env.sizes.settleMs,
      api,
      'noop-shared',
      await runLoad({ ...plan('noop-shared'), closed: { concurrency: 32, count: noopShared } }),
    );
    const afterShared = await costsOf(spindle);
    sharedCosts = costsPer(beforeShared, afterShared, noopShared);
    exclusive = await drain(
      env.sizes.settleMs,
      api,
      'noop-exclusive',
      await runLoad({ ...plan('noop-exclusive'), closed: { concurrency: 32, count: noopExclusive } }),
    );
    exclusiveCosts = costsPer(afterShared, await costsOf(spindle), noopExclusive);
    steady = await drain(
      env.sizes.settleMs,
      api,
      'noop-steady',
      await runLoad({ ...plan('noop-steady'), open: { rate: offered, seconds: steadySeconds } }),
    );
  } finally {
    await spindle.stop();
  }
  const theirs: Partial<Record<PeerName, number>> = {};
  if (peers) {
    for (const peer of PEERS) {
      const answer = await runPeer(peer, peers, { kind: 'drain', count: noopShared });
      if (answer.kind === 'drain') theirs[peer] = answer.completedPerSecond;
    }
  }
  return {
    figure: 'noop',
    title: `3. No-op jobs, submit → finished (${noopShared} shared, ${noopExclusive} exclusive)`,
    rows: [
      {
        metric: 'shared (warm runner): finished per second',
        unit: '/s',
        better: 'higher',
        spindle: shared.perSecond,
        peers: theirs,
      },
      { metric: 'shared: submit → finished p50', unit: 'ms', better: 'lower', spindle: shared.latency.p50 },
      { metric: 'shared: submit → finished p99', unit: 'ms', better: 'lower', spindle: shared.latency.p99 },
      ...costRows('shared, per job submit → finished', sharedCosts),
      {
        metric: 'exclusive (a process per job): finished per second',
        unit: '/s',
        better: 'higher',
        spindle: exclusive.perSecond,
      },
      {
        metric: 'exclusive: submit → finished p99',
        unit: 'ms',
        better: 'lower',
        spindle: exclusive.latency.p99,
      },
      ...costRows('exclusive, per job submit → finished', exclusiveCosts),
      {
        metric: `exclusive at ${offered}/s offered: submit → finished p50`,
        unit: 'ms',
        better: 'lower',
        spindle: steady.latency.p50,
      },
      {
        metric: `exclusive at ${offered}/s offered: submit → finished p99`,
        unit: 'ms',
        better: 'lower',
        spindle: steady.latency.p99,
      },
      {
        metric: 'acknowledged jobs not succeeded (all runs)',
        unit: 'count',
        better: 'lower',
        spindle: shared.notFinished + exclusive.notFinished + steady.notFinished,
      },
      {
        metric: 'submits refused (all runs)',
        unit: 'count',
        better: 'lower',
        spindle: shared.refused + exclusive.refused + steady.refused,
      },
    ],
    goals: [
      {
        id: 'G5',
        goal: '≥ 300 no-op process jobs/s finished; p99 ≤ 1 s at 250/s offered',
        measured: `${exclusive.perSecond}/s; p99 ${steady.latency.p99} ms at ${offered}/s`,
        met: exclusive.perSecond >= 300 && steady.latency.p99 <= 1_000 && exclusive.notFinished === 0,
      },
    ],
    notes: [
      ...[shared, exclusive, steady].flatMap((d) => d.what).map((w) => `Not succeeded: ${w}.`),
      'Peers drain the same number of no-op jobs enqueued in bulk beforehand, handlers in their own Node process ' +
        "(no process per job): the figure for Spindle's shared mode is the comparable one.",
      'Costs per job, submit → finished (bench/lib/costs.ts), include the API reads that wait for the jobs to end. ' +
        'The floor of Kafka messages for a shared job is 7: JobSubmitted, JobAssigned and its copy to the host, ' +
        'TaskStarted, TaskFinished, JobStarted, JobSucceeded; an exclusive job adds its worker (WorkerRequested and ' +
        'its copy, WorkerProcessStarted, WorkerStarted, WorkerStopRequested and its copy, WorkerProcessExited, ' +
        'WorkerStopped). Targets: transactions ≤ 1 per job (every step batched), statements ≤ 3 per job (a batch ' +
        "of jobs' steps shares its BEGIN, reads, one insert per table and COMMIT), CPU ≤ 3 ms per job, Kafka " +
        "requests ≤ 2 per shared job (its messages produced and fetched in requests shared with other jobs' steps).",
    ],
  };
}

function ids(samples: readonly { id?: string; status: number }[]): Set<string> {
  return new Set(samples.flatMap((s) => (s.status === 202 && s.id ? [s.id] : [])));
}

async function drain(
  settleMs: number,
  api: SpindleApi,
  fn: string,
  load: { samples: { id?: string; status: number; at: number }[] },
): Promise<Drain> {
  const accepted = ids(load.samples);
  const jobs: JobRow[] = await settledJobs(api, fn, accepted, settleMs);
  const done = jobs.filter((j) => j.state === 'succeeded' && j.finishedAt);
  const first = Math.min(...load.samples.map((s) => s.at));
  const last = Math.max(...done.map((j) => Date.parse(j.finishedAt!)));
  const refused = load.samples.filter((s) => s.status !== 202);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const unsucceeded = [...accepted].filter((id) => byId.get(id)?.state !== 'succeeded');
  const tally = (labels: string[]) =>
    [...labels.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>())].map(
      ([label, n]) => `${n}× ${label}`,
    );
  return {
    perSecond: perSecond(done.length, last - first),
    latency: summarize(done.map((j) => Date.parse(j.finishedAt!) - Date.parse(j.createdAt))),
    notFinished: unsucceeded.length,
    refused: refused.length,
    what: [
      ...tally(unsucceeded.map((id) => `${fn} job ${byId.get(id)?.state ?? 'not listed'}`)),
      ...tally(refused.map((s) => `${fn} submit answered ${s.status || 'no connection'}`)),
    ],
  };
}
