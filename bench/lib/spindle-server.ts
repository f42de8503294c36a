import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { BenchEnv } from './bench-env';

const ROOT = resolve(__dirname, '../..');

export interface SpindleServer {
  readonly url: string;
  // Every process's own HTTP address (one in the single-process topology): each serves /metrics.
  readonly processUrls: readonly string[];
  // What each of them runs, in the same order (`control`, `scheduler`, ...).
  readonly processNames: readonly string[];
  readonly mistUrl: string;
  readonly databaseUrl: string;
  // The broker it runs on (KAFKA_BROKERS: host:port, comma-separated).
  readonly kafkaBrokers: string;
  readonly pid: number;
  stop(): Promise<void>;
}

// One Spindle for one scenario: `npm start` with KAFKA_BROKERS and DATABASE_URL set, in the
// figure's topology (SPINDLE_TOPOLOGY: every service in one process, the three processes `npm
// start` runs with Kafka, or every service its own), over the real broker, on a database of its
// own that is dropped afterwards, so no scenario measures what an earlier one left behind.
export async function startSpindle(
  env: BenchEnv,
  name: string,
  extra: Record<string, string> = {},
): Promise<SpindleServer> {
  const database = `spindle_bench_${name.replace(/[^a-z0-9]/g, '_')}`;
  await recreateDatabase(env.postgresUrl, database);
  const databaseUrl = withDatabase(env.postgresUrl, database);
  const dataDir = mkdtempSync(join(tmpdir(), `spindle-bench-${name}-`));
  const port = String(env.spindlePort);
  // The previous figure's Spindle has exited, but its ports may not be free yet (every port of any
  // topology: a figure in the single topology follows one in the node topology, whose worker
  // process listened on WORKER_PORT).
  for (const port of allPortsOf(env)) await waitForFreePort(port, 30_000);
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(ROOT, 'apps/standalone/src/main.ts')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        NODE_ENV: 'production',
        KAFKA_BROKERS: env.kafkaBrokers,
        // Topics and consumer groups of this Spindle alone (the database's name is reused by the
        // next run): nothing an earlier figure or run published is read again.
        KAFKA_NAMESPACE: `${database}-${Date.now().toString(36)}`,
        DATABASE_URL: databaseUrl,
        SPINDLE_TOPOLOGY: env.topology,
        GATEWAY_PORT: port,
        // The other processes of a topology: the ports after the gateway's.
        ...Object.fromEntries(SERVICE_PORTS.map((name, i) => [name, String(env.spindlePort + 1 + i)])),
        MIST_PORT: '0',
        ILUM_PORT: '0',
        GENVID_PORT: '0',
        APOLLO_PORT: '0',
        SPINDLE_DATA_DIR: dataDir,
        // The bench measures the API, not its key checks, on loopback: every listener open.
        SPINDLE_AUTH: 'open',
        SPINDLE_DIALECT_AUTH: 'open',
        // How jobs are confined (SPINDLE_JOB_CGROUPS=off, SPINDLE_JOB_MAX_MEMORY_MB, ...) as the
        // bench's own environment says, so a run can measure what a setting costs.
        ...Object.fromEntries(
          Object.entries(process.env).filter(([name]) => name.startsWith('SPINDLE_JOB_')),
        ),
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: stopping it stops every process of its topology, also when the
      // supervisor has to be killed (a killed supervisor's children would live on, holding ports).
      detached: true,
    },
  );
  const output = captureTail(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(url, child, output, 120_000);
  } catch (e) {
    killGroup(child, 'SIGKILL');
    throw e;
  }
  const processes = processesOf(env);
  const mistUrl = /Mist API v2 on (http:\/\/[^\s]+)\/v2\/api/.exec(output.text())?.[1] ?? '';
  return {
    url,
    processUrls: processes.map((p) => p.url),
    processNames: processes.map((p) => p.name),
    mistUrl,
    databaseUrl,
    kafkaBrokers: env.kafkaBrokers,
    pid: child.pid!,
    stop: async () => {
      await stopGroup(child);
      // Gone means not listening any more: the next figure's Spindle takes the same ports.
      for (const port of allPortsOf(env)) await waitForFreePort(port, 30_000);
      rmSync(dataDir, { recursive: true, force: true });
      await dropDatabase(env.postgresUrl, database);
    },
  };
}

function allPortsOf(env: BenchEnv): number[] {
  return [env.spindlePort, ...SERVICE_PORTS.map((_, i) => env.spindlePort + 1 + i)];
}

const SERVICE_PORTS = [
  'SCHEDULER_PORT',
  'ARTIFACT_STORE_PORT',
  'LOG_COLLECTOR_PORT',
  'SECRETS_PORT',
  'PROJECTOR_PORT',
  'WORKER_PORT',
] as const;

// Where each process of the topology listens (libs/runtime/src/topology.ts: a part listens on its
// gateway's port, else on that of its first service with internal routes, else its first one's).
function processesOf(env: BenchEnv): { name: string; url: string }[] {
  const at = (offset: number) => `http://127.0.0.1:${env.spindlePort + offset}`;
  const offsetOf = (variable: (typeof SERVICE_PORTS)[number]) => 1 + SERVICE_PORTS.indexOf(variable);
  switch (env.topology) {
    case 'single':
      return [{ name: 'single', url: at(0) }];
    case 'node': // control (gateway), projection (log collector), worker
      return [
        { name: 'control', url: at(0) },
        { name: 'projection', url: at(offsetOf('LOG_COLLECTOR_PORT')) },
        { name: 'worker', url: at(offsetOf('WORKER_PORT')) },
      ];
    case 'all':
      return [
        { name: 'gateway', url: at(0) },
        ...SERVICE_PORTS.map((v) => ({
          name: v
            .replace(/_PORT$/, '')
            .toLowerCase()
            .replaceAll('_', '-'),
          url: at(offsetOf(v)),
        })),
      ];
  }
}

function captureTail(child: ChildProcess): { text: () => string } {
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { text: () => tail };
}

async function waitUntilHealthy(
  url: string,
  child: ChildProcess,
  output: { text: () => string },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (;;) {
    if (exited !== undefined)
      throw new Error(`Spindle exited (${exited}) before it was up:\n${output.text()}`);
    try {
      const response = await fetch(`${url}/health`);
      // Up means the boot finished: the welcome line is printed after the default context is readable.
      if (response.ok && output.text().includes('Spindle is up')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`Spindle not healthy after ${timeoutMs} ms:\n${output.text()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitForFreePort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const taken = await new Promise<boolean>((resolvePort) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolvePort(true);
      });
      socket.on('error', () => resolvePort(false));
    });
    if (!taken) return;
    if (Date.now() > deadline) throw new Error(`port ${port} is still taken after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Every process of the group: the supervisor and the topology's processes stop together (each
// shuts down on SIGTERM); what is left after 20 s is killed.
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  // A process of the group that outlived the supervisor (its shutdown was slower) goes too.
  await new Promise((r) => setTimeout(r, 2_000));
  killGroup(child, 'SIGKILL');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function recreateDatabase(serverUrl: string, database: string): Promise<void> {
  await dropDatabase(serverUrl, database);
  await adminQuery(serverUrl, `create database "${database}"`);
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  await adminQuery(serverUrl, `drop database if exists "${database}" with (force)`);
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
