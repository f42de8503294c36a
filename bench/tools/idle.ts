import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { Client } from 'pg';
import { benchEnv } from '../lib/bench-env';
import { CLOCK_TICKS_PER_SECOND, procStat } from '../lib/proc-stat';
import { startSpindle } from '../lib/spindle-server';

// What an idle Spindle costs, per process: `idle.ts --topologies=node` (the bench's environment:
// KAFKA_BROKERS, BENCH_POSTGRES_URL, BENCH_SPINDLE_PORT) starts the first topology named as the
// bench does, lets it settle (IDLE_SETTLE_MS, 15 s) and measures IDLE_WINDOW_MS (60 s): each
// process's CPU from /proc (user and kernel), its connections to the broker and the TCP segments
// it sent there (ss), the statements each process's DataSources sent and the Postgres transactions
// of its database. Figure 1's idle row is the same CPU, summed, without the supervisor.
const SETTLE_MS = Number(process.env['IDLE_SETTLE_MS'] ?? 15_000);
const WINDOW_MS = Number(process.env['IDLE_WINDOW_MS'] ?? 60_000);

interface Snapshot {
  readonly at: number;
  readonly cpu: ReadonlyMap<number, { readonly user: number; readonly kernel: number }>;
  readonly broker: ReadonlyMap<number, { readonly connections: number; readonly segmentsSent: number }>;
  readonly statements: readonly number[];
  readonly transactions: number;
}

// The supervisor and every process of its topology: its process group.
function processesOf(groupId: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return procStat(pid).processGroup === groupId;
      } catch {
        return false; // gone meanwhile
      }
    });
}

function partOf(pid: number): string {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return env.find((e) => e.startsWith('SPINDLE_PART='))?.slice('SPINDLE_PART='.length) ?? 'supervisor';
}

function brokerSockets(brokerPort: string): Snapshot['broker'] {
  const out = execFileSync('ss', ['-tinpH', 'dport', `= :${brokerPort}`], { encoding: 'utf8' });
  const lines = out.split('\n');
  const sockets = new Map<number, { connections: number; segmentsSent: number }>();
  lines.forEach((line, i) => {
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (!pid) return;
    const sent = Number(/segs_out:(\d+)/.exec(lines[i + 1] ?? '')?.[1] ?? 0);
    const known = sockets.get(Number(pid)) ?? { connections: 0, segmentsSent: 0 };
    sockets.set(Number(pid), { connections: known.connections + 1, segmentsSent: known.segmentsSent + sent });
  });
  return sockets;
}

async function statementsOf(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('spindle_db_statements_total'))
    .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function main(): Promise<void> {
  const env = benchEnv(process.argv.slice(2));
  const brokerPort = env.kafkaBrokers.split(',')[0]!.split(':').pop()!;
  const spindle = await startSpindle({ ...env, topology: env.topologies[0]! }, 'idle');
  const client = new Client({ connectionString: spindle.databaseUrl });
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await client.connect();
    const pids = processesOf(spindle.pid);
    const snapshot = async (): Promise<Snapshot> => {
      const { rows } = await client.query<{ n: string }>(
        `select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`,
      );
      return {
        at: Date.now(),
        cpu: new Map(
          pids.map((pid) => {
            const { utime, stime } = procStat(pid);
            return [pid, { user: utime / CLOCK_TICKS_PER_SECOND, kernel: stime / CLOCK_TICKS_PER_SECOND }];
          }),
        ),
        broker: brokerSockets(brokerPort),
        statements: await Promise.all(spindle.processUrls.map(statementsOf)),
        transactions: Number(rows[0]!.n),
      };
    };
    const from = await snapshot();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const to = await snapshot();
    const seconds = (to.at - from.at) / 1000;
    const percent = (cpuSeconds: number) => ((cpuSeconds * 100) / seconds).toFixed(2);
    let total = 0;
    let segments = 0;
    for (const pid of pids) {
      const [a, b] = [from.cpu.get(pid)!, to.cpu.get(pid)!];
      const [user, kernel] = [b.user - a.user, b.kernel - a.kernel];
      total += user + kernel;
      const sent = (to.broker.get(pid)?.segmentsSent ?? 0) - (from.broker.get(pid)?.segmentsSent ?? 0);
      segments += sent;
      console.log(
        `${partOf(pid).padEnd(44)} CPU ${percent(user + kernel)} % (user ${percent(user)}, kernel ${percent(kernel)}), ` +
          `${to.broker.get(pid)?.connections ?? 0} broker connections, ${(sent / seconds).toFixed(1)} segments/s to it`,
      );
    }
    console.log(`all processes: CPU ${percent(total)} % of one core over ${seconds.toFixed(1)} s`);
    console.log(`TCP segments to the broker/s: ${(segments / seconds).toFixed(1)}`);
    console.log(
      `statements/s by process address (${spindle.processUrls.join(', ')}): ` +
        to.statements.map((s, i) => ((s - from.statements[i]!) / seconds).toFixed(2)).join(' / '),
    );
    // Less this tool's own first look.
    console.log(
      `Postgres transactions/s, all connections: ${((to.transactions - from.transactions - 1) / seconds).toFixed(2)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
    await spindle.stop();
  }
}

void main();
