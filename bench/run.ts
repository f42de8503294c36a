import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { benchEnv, FIGURES, PER_TOPOLOGY, wants } from './lib/bench-env';
import type { BenchEnv, Figure } from './lib/bench-env';
import { machineOf, markdown, resultBase, writeResult } from './lib/report';
import type { BenchResult, FigureReport } from './lib/report';
import { recreateDatabase, withDatabase } from './lib/spindle-server';
import type { PeerConnections } from './peers/peer-adapters';
import { groupFigure } from './scenarios/group.figure';
import { listFigure } from './scenarios/list.figure';
import { logsFigure } from './scenarios/logs.figure';
import { noopFigure } from './scenarios/noop.figure';
import { projectionLagFigure } from './scenarios/projection-lag.figure';
import { rebuildFigure } from './scenarios/rebuild.figure';
import { startLatencyFigure } from './scenarios/start-latency.figure';
import { submitFigure } from './scenarios/submit.figure';
import { wordCountFigure } from './scenarios/wordcount.figure';

type FigureRun = (env: BenchEnv, peers: PeerConnections | null) => Promise<FigureReport>;

const RUNS: Partial<Record<Figure, FigureRun>> = {
  submit: submitFigure,
  'start-latency': startLatencyFigure,
  noop: noopFigure,
  'projection-lag': projectionLagFigure,
  list: listFigure,
  logs: logsFigure,
  rebuild: rebuildFigure,
  group: groupFigure,
  wordcount: wordCountFigure,
};

// `npm run bench [-- --quick] [--only=submit,noop] [--no-peers]`: Spindle against the real Kafka
// and Postgres, driven through its HTTP API from separate processes, beside BullMQ, pg-boss and
// graphile-worker on the same machine in the same run. Writes bench/results/<date>-<host>.{json,md}
// (-2, -3, ... for a later run of the day).
async function main(): Promise<void> {
  const env = benchEnv(process.argv.slice(2));
  const started = Date.now();
  const peers = env.peers ? await preparePeers(env) : null;
  const figures: FigureReport[] = [];
  const failures: { figure: Figure; error: string }[] = [];
  const machine = machineOf(await postgresVersion(env), kafkaVersion());
  const base = resultBase(env, new Date(started).toISOString(), machine.host);
  // Written after every figure, so a run stopped midway keeps what it measured.
  const save = () =>
    writeResult(base, {
      date: new Date(started).toISOString(),
      mode: env.mode,
      machine,
      figures,
      failures,
      seconds: (Date.now() - started) / 1000,
    });
  for (const figure of FIGURES) {
    const run = RUNS[figure];
    if (!wants(env, figure) || !run) continue;
    // The peers run once, beside the first topology.
    const topologies = PER_TOPOLOGY.has(figure) ? env.topologies : env.topologies.slice(0, 1);
    for (const [i, topology] of topologies.entries()) {
      const label = `${figure} (topology ${topology})`;
      console.log(`bench: ${label} ...`);
      const t = Date.now();
      try {
        const report = await run({ ...env, topology }, i === 0 ? peers : null);
        figures.push({ ...report, topology, title: `${report.title}; topology ${topology}` });
        console.log(`bench: ${label} done in ${Math.round((Date.now() - t) / 1000)} s`);
      } catch (e) {
        const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
        console.error(`bench: ${label} failed: ${error}`);
        failures.push({ figure, error: `topology ${topology}: ${error.split('\n')[0]!}` });
      }
      save();
    }
  }
  const files = save();
  const result = JSON.parse(readFileSync(files.json, 'utf8')) as BenchResult;
  console.log(`\n${markdown(result)}\nbench: wrote ${files.json} and ${files.md}`);
  if (failures.length > 0) process.exitCode = 1;
}

// The peers keep their state in databases of their own, fresh for every run.
async function preparePeers(env: BenchEnv): Promise<PeerConnections> {
  await recreateDatabase(env.postgresUrl, 'spindle_bench_pgboss');
  await recreateDatabase(env.postgresUrl, 'spindle_bench_graphile');
  return {
    redisUrl: env.redisUrl,
    pgBossUrl: withDatabase(env.postgresUrl, 'spindle_bench_pgboss'),
    graphileUrl: withDatabase(env.postgresUrl, 'spindle_bench_graphile'),
  };
}

async function postgresVersion(env: BenchEnv): Promise<string> {
  const client = new Client({ connectionString: env.postgresUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>('select current_setting($$server_version$$) as v');
    return `PostgreSQL ${rows[0]!.v.split(' ')[0]}`;
  } finally {
    await client.end();
  }
}

// The broker the project's scripts run (tools/kafka/pom.xml, default profile).
function kafkaVersion(): string {
  const pom = readFileSync('tools/kafka/pom.xml', 'utf8');
  return /<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown';
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
