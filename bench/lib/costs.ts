import { readdirSync } from 'node:fs';
import { Client } from 'pg';
import { CLOCK_TICKS_PER_SECOND, listenerPid, procStat } from './proc-stat';
import type { SpindleServer } from './spindle-server';
import { round } from './stats';

// What a piece of work costs Spindle, whatever else shares the machine: the CPU time of its own
// processes (each one's `spindle_process_cpu_seconds_total`, from /metrics, and a worker agent's
// spawner's, `spindle_spawner_cpu_seconds_total`), the Postgres
// transactions and rows written in its database (`pg_stat_database`), the CPU time of the Postgres
// server (postgresCpuSeconds: the figure runs alone on it) and of the Kafka broker
// (kafkaCpuSeconds: alone on it too), the statements its
// DataSources sent (`spindle_db_statements_total`, each a round trip), the Kafka messages its
// outbox relays published (`spindle_outbox_published_total`) and the requests its Kafka clients
// sent (`spindle_kafka_requests_total`, each a round trip). Throughput and latency depend on a
// quiet machine; these do not, so they compare runs made on a loaded one too.
export interface Costs {
  readonly cpuSeconds: number;
  // The same, process by process (SpindleServer.processNames; a worker's spawner in its agent's).
  readonly cpuSecondsByProcess: ReadonlyMap<string, number>;
  readonly postgresCpuSeconds: number;
  readonly kafkaCpuSeconds: number;
  readonly transactions: number;
  readonly statements: number;
  // The same, by the DataSource that sent them (its `connection`: the scheduler's, the read
  // models', ...), summed over the processes.
  readonly statementsByConnection: ReadonlyMap<string, number>;
  readonly rowsWritten: number;
  readonly published: number;
  readonly kafkaRequests: number;
  // The same, by the request's API (Produce, Fetch, OffsetCommit, ...), summed over the processes.
  readonly kafkaRequestsByApi: ReadonlyMap<string, number>;
}

// Taken once the work's consequences have settled: every outbox is empty and the consumers
// (projector, worker agents, scheduler) have applied no new event for half a second, at most 30 s
// after the load. (The outboxes first: a relay behind a saturated event loop can sit on a batch
// for longer than the consumers' half second, and the costs were then taken with most of the
// submits' messages still to publish: 0.3 Kafka messages per submit.)
export async function costsOf(spindle: SpindleServer): Promise<Costs> {
  const client = new Client({ connectionString: spindle.databaseUrl });
  await client.connect();
  try {
    let each = await scrapeEach(spindle);
    const deadline = Date.now() + 30_000;
    for (let still = 0; still < 2 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 250));
      const next = await scrapeEach(spindle);
      const settled =
        (await unpublished(client)) === 0 &&
        sumOf(next, 'spindle_consumer_events_total') === sumOf(each, 'spindle_consumer_events_total');
      still = settled ? still + 1 : 0;
      each = next;
    }
    const sum = (name: string) => sumOf(each, name);
    // The statistics of a backend are flushed when it is idle for a second at most (PostgreSQL 15).
    await new Promise((r) => setTimeout(r, 1_100));
    const { rows } = await client.query<{ xacts: string; rows: string }>(
      `select xact_commit + xact_rollback as xacts, tup_inserted + tup_updated + tup_deleted as rows
       from pg_stat_database where datname = current_database()`,
    );
    return {
      cpuSeconds: each.reduce((total, of) => total + cpuOf(of), 0),
      cpuSecondsByProcess: new Map(spindle.processNames.map((name, i) => [name, cpuOf(each[i]!)])),
      postgresCpuSeconds: await postgresCpuSeconds(client),
      kafkaCpuSeconds: kafkaCpuSeconds(spindle.kafkaBrokers),
      transactions: Number(rows[0]!.xacts),
      statements: sum('spindle_db_statements_total'),
      statementsByConnection: byLabel(each, 'spindle_db_statements_total', 'connection'),
      rowsWritten: Number(rows[0]!.rows),
      published: sum('spindle_outbox_published_total'),
      kafkaRequests: sum('spindle_kafka_requests_total'),
      kafkaRequestsByApi: byLabel(each, 'spindle_kafka_requests_total', 'api'),
    };
  } finally {
    await client.end();
  }
}

// Rows waiting in every service's outbox (one table per schema).
async function unpublished(client: Client): Promise<number> {
  const { rows: tables } = await client.query<{ schema: string }>(
    `select table_schema as schema from information_schema.tables where table_name = 'outbox'`,
  );
  if (tables.length === 0) return 0;
  const { rows } = await client.query<{ n: string }>(
    `select ${tables.map((t) => `(select count(*) from "${t.schema}".outbox)`).join(' + ')} as n`,
  );
  return Number(rows[0]!.n);
}

// The CPU time of the whole Postgres server so far, in seconds: its postmaster's own, the
// postmaster's children that ended (their time is added to its children's when it reaps them),
// and every live child's (backends, WAL writer, checkpointer, autovacuum), from /proc. The
// figures run one at a time on the server, so what it spends meanwhile is theirs, less the
// bench's own reads. NaN where the server's processes cannot be read (another machine).
async function postgresCpuSeconds(client: Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  try {
    const backend = procStat(rows[0]!.pid);
    const postmaster = backend.ppid;
    const own = procStat(postmaster);
    // The same pid on this machine may be another program's when the server runs elsewhere.
    if (backend.command !== 'postgres' || own.command !== 'postgres') return NaN;
    let ticks = own.utime + own.stime + own.cutime + own.cstime;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const child = procStat(Number(entry));
        if (child.ppid === postmaster) ticks += child.utime + child.stime;
      } catch {
        // Gone meanwhile: its time is in the postmaster's children's now.
      }
    }
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

// The CPU time of the Kafka broker so far, in seconds: the process listening on each broker
// address's port on this machine (the project's kafka-up.sh runs one), threads included. NaN when
// one of them is not found here (a broker elsewhere).
function kafkaCpuSeconds(brokers: string): number {
  let ticks = 0;
  for (const address of brokers.split(',')) {
    const pid = listenerPid(Number(address.slice(address.lastIndexOf(':') + 1)));
    if (pid === null) return NaN;
    try {
      const broker = procStat(pid);
      ticks += broker.utime + broker.stime;
    } catch {
      return NaN;
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

export interface UnitCosts {
  readonly cpuMs: number;
  readonly cpuMsByProcess: ReadonlyMap<string, number>;
  readonly postgresCpuMs: number;
  readonly kafkaCpuMs: number;
  readonly transactions: number;
  readonly statements: number;
  readonly statementsByConnection: ReadonlyMap<string, number>;
  readonly rowsWritten: number;
  readonly published: number;
  readonly kafkaRequests: number;
  readonly kafkaRequestsByApi: ReadonlyMap<string, number>;
}

// Per unit of work (a submit, a job), between two snapshots. The transactions include the bench's
// own reads of the API's read models, a handful per run.
export function costsPer(before: Costs, after: Costs, units: number): UnitCosts {
  const perUnit = (total: number) => (units > 0 ? round(total / units, 2) : NaN);
  type Split = 'cpuSecondsByProcess' | 'statementsByConnection' | 'kafkaRequestsByApi';
  const per = (k: Exclude<keyof Costs, Split>, scale = 1) => perUnit((after[k] - before[k]) * scale);
  const perEach = (k: Split, scale = 1) =>
    new Map([...after[k]].map(([name, n]) => [name, perUnit((n - (before[k].get(name) ?? 0)) * scale)]));
  return {
    cpuMs: per('cpuSeconds', 1000),
    cpuMsByProcess: perEach('cpuSecondsByProcess', 1000),
    postgresCpuMs: per('postgresCpuSeconds', 1000),
    kafkaCpuMs: per('kafkaCpuSeconds', 1000),
    transactions: per('transactions'),
    statements: per('statements'),
    statementsByConnection: perEach('statementsByConnection'),
    rowsWritten: per('rowsWritten'),
    published: per('published'),
    kafkaRequests: per('kafkaRequests'),
    kafkaRequestsByApi: perEach('kafkaRequestsByApi'),
  };
}

// The rows a figure reports for them, with the target written beside each in its note.
export function costRows(what: string, costs: UnitCosts) {
  return [
    {
      metric: `${what}: CPU of Spindle's processes`,
      unit: 'ms',
      better: 'lower' as const,
      spindle: costs.cpuMs,
      ...split(costs.cpuMsByProcess),
    },
    {
      metric: `${what}: CPU of the Postgres server`,
      unit: 'ms',
      better: 'lower' as const,
      spindle: costs.postgresCpuMs,
    },
    {
      metric: `${what}: CPU of the Kafka broker`,
      unit: 'ms',
      better: 'lower' as const,
      spindle: costs.kafkaCpuMs,
    },
    {
      metric: `${what}: Postgres transactions`,
      unit: 'count',
      better: 'lower' as const,
      spindle: costs.transactions,
    },
    {
      metric: `${what}: Postgres statements (round trips)`,
      unit: 'count',
      better: 'lower' as const,
      spindle: costs.statements,
      ...split(costs.statementsByConnection),
    },
    {
      metric: `${what}: Postgres rows written`,
      unit: 'count',
      better: 'lower' as const,
      spindle: costs.rowsWritten,
    },
    {
      metric: `${what}: Kafka messages published`,
      unit: 'count',
      better: 'lower' as const,
      spindle: costs.published,
    },
    {
      metric: `${what}: Kafka requests (round trips)`,
      unit: 'count',
      better: 'lower' as const,
      spindle: costs.kafkaRequests,
      // The APIs the work used: a client's ApiVersions or JoinGroup per submit rounds to 0.
      ...split(new Map([...costs.kafkaRequestsByApi].filter(([, n]) => n !== 0))),
    },
  ];
}

// Where a cost went (by process, by connection, by Kafka API), as a row's note, when to more than
// one place.
function split(parts: ReadonlyMap<string, number>): { note?: string } {
  if (parts.size < 2) return {};
  return { note: `(${[...parts].map(([name, n]) => `${name} ${n}`).join(', ')})` };
}

// One process's metrics: a metric's value, summed over its labels, or by the values of one label.
interface Scrape {
  (name: string): number;
  byLabel(name: string, label: string): Map<string, number>;
}

// Every process's metrics, in the order of processUrls.
async function scrapeEach(spindle: SpindleServer): Promise<Scrape[]> {
  const texts = await Promise.all(
    spindle.processUrls.map(async (url) => (await fetch(`${url}/metrics`)).text()),
  );
  return texts.map((text) => {
    const lines = text.split('\n');
    const linesOf = (name: string) =>
      lines.filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    const valueOf = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
    const scrape = (name: string) => linesOf(name).reduce((total, l) => total + valueOf(l), 0);
    scrape.byLabel = (name: string, label: string) => {
      const values = new Map<string, number>();
      for (const line of linesOf(name)) {
        const value = new RegExp(`[{,]${label}="([^"]*)"`).exec(line)?.[1] ?? '';
        values.set(value, (values.get(value) ?? 0) + valueOf(line));
      }
      return values;
    };
    return scrape;
  });
}

// A process's CPU time. A worker agent's spawner does the agent's forks: its CPU is the agent's.
function cpuOf(of: Scrape): number {
  return of('spindle_process_cpu_seconds_total') + of('spindle_spawner_cpu_seconds_total');
}

// A metric summed over every process, by the values of one of its labels.
function byLabel(each: readonly Scrape[], name: string, label: string): Map<string, number> {
  return each.reduce((total, of) => {
    for (const [value, n] of of.byLabel(name, label)) total.set(value, (total.get(value) ?? 0) + n);
    return total;
  }, new Map<string, number>());
}

// A metric summed over every process.
function sumOf(each: readonly Scrape[], name: string): number {
  return each.reduce((total, of) => total + of(name), 0);
}

// The CPU time of Spindle's processes so far (one scrape of each), in seconds.
export async function cpuSecondsOf(spindle: SpindleServer): Promise<number> {
  return (await scrapeEach(spindle)).reduce((total, of) => total + cpuOf(of), 0);
}
