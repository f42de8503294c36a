// Where an exclusive no-op job's cost goes, per process of a running node-topology Spindle: CPU
// (each process's /metrics, the worker agent's spawner's among the worker's), statements, and the
// database's transactions. Usage (a Spindle already up, e.g. started with node --cpu-prof):
//   node -r @swc-node/register bench/tools/exclusive-costs.ts <gateway url> <projection url> <worker url> <database url> [jobs] [concurrency]
import { Client } from 'pg';
import { runLoad } from '../lib/load-generator';
import { SpindleApi, settledJobs } from '../lib/spindle-api';
import { noopFunctions } from '../fixtures/noop-functions';

const [gateway, projection, worker, databaseUrl, jobsArg, concurrencyArg] = process.argv.slice(2);
const jobs = Number(jobsArg ?? 300);
const concurrency = Number(concurrencyArg ?? 32);
const urls = { control: gateway!, projection: projection!, worker: worker! };

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((t, l) => t + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function snapshot(client: Client) {
  const out: Record<string, number> = {};
  for (const [name, url] of Object.entries(urls)) {
    out[`${name} cpu ms`] = (await metric(url, 'spindle_process_cpu_seconds_total')) * 1000;
    out[`${name} statements`] = await metric(url, 'spindle_db_statements_total');
  }
  out['spawner cpu ms'] = (await metric(urls.worker, 'spindle_spawner_cpu_seconds_total')) * 1000;
  out['published'] =
    (await metric(urls.control, 'spindle_outbox_published_total')) +
    (await metric(urls.projection, 'spindle_outbox_published_total')) +
    (await metric(urls.worker, 'spindle_outbox_published_total'));
  const { rows } = await client.query<{ x: string }>(
    `select xact_commit + xact_rollback as x from pg_stat_database where datname = current_database()`,
  );
  out['transactions'] = Number(rows[0]!.x);
  return out;
}

async function main(): Promise<void> {
  const api = new SpindleApi(urls.control);
  await noopFunctions(api);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const plan = {
    url: `${urls.control}/api/v1/functions/noop-exclusive/jobs`,
    method: 'POST' as const,
    body: JSON.stringify({ args: {} }),
  };
  // Submits `count` jobs, `inFlight` at a time, and waits until every one has ended.
  const runJobs = async (inFlight: number, count: number, timeoutMs: number) => {
    const run = await runLoad({ ...plan, closed: { concurrency: inFlight, count } });
    const ids = new Set(run.samples.flatMap((s) => (s.id ? [s.id] : [])));
    return settledJobs(api, 'noop-exclusive', ids, timeoutMs);
  };
  await runJobs(4, 20, 60_000);
  await new Promise((r) => setTimeout(r, 3_000));
  // What the same processes cost idle, per second: on a loaded machine a run lasts long enough
  // for that to weigh on a job's share, so it is also shown taken away.
  const idleFrom = await snapshot(client);
  const idleMs = 15_000;
  await new Promise((r) => setTimeout(r, idleMs));
  const before = await snapshot(client);
  const began = Date.now();
  const rows = await runJobs(concurrency, jobs, 120_000);
  await new Promise((r) => setTimeout(r, 3_000));
  const after = await snapshot(client);
  const span = (Date.now() - began) / 1000;
  const failed = rows.filter((r) => r.state !== 'succeeded').length;
  console.log(
    `${jobs} exclusive jobs, ${failed} not succeeded, ${(jobs / span).toFixed(1)} jobs/s (incl. settle)`,
  );
  console.log(`${'per job'.padEnd(24)} measured  less idle (${span.toFixed(0)} s)`);
  for (const k of Object.keys(after)) {
    const measured = (after[k]! - before[k]!) / jobs;
    const idle = ((before[k]! - idleFrom[k]!) / idleMs) * 1000 * span;
    console.log(
      `${k.padEnd(24)} ${measured.toFixed(2).padStart(8)}  ${(measured - idle / jobs).toFixed(2).padStart(8)}`,
    );
  }
  await client.end();
}

void main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
