import { parseArgs } from 'node:util';
import type { StorageCredentials } from '@spindle/platform';

// What one bench run measures and against what. `--quick` keeps the whole run under five minutes
// (smaller counts, shorter windows); the full run uses the sizes of the goals.
export interface BenchEnv {
  readonly mode: 'smoke' | 'quick' | 'full';
  readonly only: ReadonlySet<string> | null;
  readonly peers: boolean;
  readonly kafkaBrokers: string;
  readonly postgresUrl: string; // a server URL; the bench makes databases of its own on it
  readonly redisUrl: string;
  readonly spindlePort: number;
  // The S3-compatible storage of MapReduce jobs (figure 9): S3Proxy from `npm run infra:up`.
  readonly storage: { readonly endpoint: string; readonly credentials: StorageCredentials };
  // How Spindle's services are packed into processes (SPINDLE_TOPOLOGY) for the figure being run;
  // the backbone figures (1-4) run once per topology of `topologies`, the others in the first.
  readonly topology: Topology;
  readonly topologies: readonly Topology[];
  readonly outDir: string;
  readonly sizes: Sizes;
}

export interface Sizes {
  readonly submitSeconds: number; // figure 1, closed loop at fixed concurrency
  readonly submitConcurrency: number;
  readonly openLoopSeconds: number; // figure 2, per offered rate
  readonly openLoopRates: readonly number[];
  readonly noopShared: number; // figure 3, jobs per mode
  readonly noopExclusive: number;
  readonly steadyRate: number; // figure 3, exclusive jobs offered per second (G5: 250/s)
  readonly steadySeconds: number;
  readonly lagSeconds: number; // figure 4
  readonly listJobs: number; // figure 5, jobs in the read model
  readonly listSamples: number;
  readonly logLines: number; // figure 6
  readonly rebuildEvents: number; // figure 7
  readonly groupRequests: number; // figure 8, requests to a warm group, one at a time
  readonly coldJobs: number; // figure 8, cold exclusive jobs, one at a time
  readonly wordCountBytes: number; // figure 9, the text of the streaming word count
  // Figure 9 with Apollo's protocol, which runs its mapper once per line and its reducer once per
  // key: a smaller text of long lines.
  readonly apolloWordCountBytes: number;
  // How long figures 2-4 wait for the jobs of a load to finish; what has not finished by then is
  // counted as such (a system slower than the load is measured, not waited for without end).
  readonly settleMs: number;
  // Figure 1's idle row: its window opens this long after Spindle is up, and lasts idleWindowMs,
  // read as the median of its 5 s slices. Once, early, each Node process's garbage collector
  // compacts its start-up heap (V8's memory reducer: a process spent 5-12 % of a core for 5 s, at
  // 30-55 s after its start on one 2-core VM and 60-140 s on another, 2026-12-06), which an idle
  // Spindle does once, not while it idles: it falls in a slice or two, not in the median.
  readonly idleAfterMs: number;
  readonly idleWindowMs: number;
}

const MB = 1024 * 1024;

const QUICK: Sizes = {
  submitSeconds: 10,
  submitConcurrency: 32,
  openLoopSeconds: 10,
  openLoopRates: [100, 500],
  noopShared: 2_000,
  noopExclusive: 300,
  steadyRate: 250,
  steadySeconds: 2,
  lagSeconds: 10,
  listJobs: 200_000,
  listSamples: 100,
  logLines: 100_000,
  rebuildEvents: 200_000,
  groupRequests: 200,
  coldJobs: 30,
  wordCountBytes: 20 * MB,
  apolloWordCountBytes: 5 * MB,
  settleMs: 45_000,
  idleAfterMs: 60_000,
  idleWindowMs: 60_000,
};

// For the test that keeps the harness working: every figure runs, on toy sizes.
const SMOKE: Sizes = {
  submitSeconds: 2,
  submitConcurrency: 8,
  openLoopSeconds: 2,
  openLoopRates: [50],
  noopShared: 50,
  noopExclusive: 20,
  steadyRate: 10,
  steadySeconds: 2,
  lagSeconds: 2,
  listJobs: 5_000,
  listSamples: 10,
  logLines: 2_000,
  rebuildEvents: 4_000,
  groupRequests: 5,
  coldJobs: 2,
  wordCountBytes: MB,
  apolloWordCountBytes: MB / 4,
  settleMs: 60_000,
  idleAfterMs: 0,
  idleWindowMs: 1_000,
};

const FULL: Sizes = {
  submitSeconds: 60,
  submitConcurrency: 32,
  openLoopSeconds: 60,
  openLoopRates: [100, 500],
  noopShared: 20_000,
  noopExclusive: 5_000,
  steadyRate: 250,
  steadySeconds: 60,
  lagSeconds: 60,
  listJobs: 1_000_000,
  listSamples: 500,
  logLines: 1_000_000,
  rebuildEvents: 1_000_000,
  groupRequests: 1_000,
  coldJobs: 100,
  wordCountBytes: 100 * MB,
  apolloWordCountBytes: 20 * MB,
  settleMs: 600_000,
  idleAfterMs: 60_000,
  idleWindowMs: 60_000,
};

// `node`: what `npm start` runs with Kafka (three processes); `single`: every service in one
// process; `all`: every service its own process (the multi-machine topology, `npm run start:all`).
export const TOPOLOGIES = ['node', 'single', 'all'] as const;
export type Topology = (typeof TOPOLOGIES)[number];
// The figures whose numbers depend on the topology: they run once per topology asked for.
export const PER_TOPOLOGY: ReadonlySet<string> = new Set([
  'submit',
  'start-latency',
  'noop',
  'projection-lag',
]);

export const FIGURES = [
  'submit',
  'start-latency',
  'noop',
  'projection-lag',
  'list',
  'logs',
  'rebuild',
  'group',
  'wordcount',
] as const;
export type Figure = (typeof FIGURES)[number];

export function benchEnv(argv: readonly string[]): BenchEnv {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-peers': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results' },
      topologies: { type: 'string', default: TOPOLOGIES.join(',') },
    },
    strict: true,
  });
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
  for (const name of only ?? []) {
    if (!(FIGURES as readonly string[]).includes(name))
      throw new Error(`--only: unknown figure "${name}" (one of ${FIGURES.join(', ')})`);
  }
  const topologies = values.topologies.split(',').map((s) => s.trim()) as Topology[];
  for (const name of topologies) {
    if (!(TOPOLOGIES as readonly string[]).includes(name))
      throw new Error(`--topologies: unknown topology "${name}" (one of ${TOPOLOGIES.join(', ')})`);
  }
  const mode = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  return {
    mode,
    only,
    peers: !values['no-peers'],
    kafkaBrokers: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092',
    postgresUrl: process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    // Below the kernel's ephemeral range (32768-60999 on Linux): a port there may be some client
    // socket's local port at the moment a process of the topology wants to listen on it.
    spindlePort: Number(process.env['BENCH_SPINDLE_PORT'] ?? 29080),
    storage: {
      endpoint: process.env['S3_ENDPOINT'] ?? 'http://127.0.0.1:19000',
      credentials: {
        accessKeyId: process.env['S3_ACCESS_KEY'] ?? 'spindle',
        secretAccessKey: process.env['S3_SECRET_KEY'] ?? 'spindle-secret',
      },
    },
    topology: topologies[0]!,
    topologies,
    outDir: values.out,
    sizes: { smoke: SMOKE, quick: QUICK, full: FULL }[mode],
  };
}

export function wants(env: BenchEnv, figure: Figure): boolean {
  return env.only === null || env.only.has(figure);
}
