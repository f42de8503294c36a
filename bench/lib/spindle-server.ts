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
  readonly mistUrl: string;
  readonly databaseUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

// One Spindle for one scenario: every service in one process (`npm start` with KAFKA_BROKERS and
// DATABASE_URL set), over the real broker, on a database of its own that is dropped afterwards,
// so no scenario measures what an earlier one left behind.
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
  // The previous figure's Spindle has exited, but its port may not be free yet.
  await waitForFreePort(env.spindlePort, 30_000);
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
        DATABASE_URL: databaseUrl,
        GATEWAY_PORT: port,
        MIST_PORT: '0',
        ILUM_PORT: '0',
        GENVID_PORT: '0',
        APOLLO_PORT: '0',
        SPINDLE_DATA_DIR: dataDir,
        // The bench measures the API, not its key checks, on loopback: every listener open.
        SPINDLE_AUTH: 'open',
        SPINDLE_DIALECT_AUTH: 'open',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = captureTail(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(url, child, output, 120_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const mistUrl = /Mist API v2 on (http:\/\/[^\s]+)\/v2\/api/.exec(output.text())?.[1] ?? '';
  return {
    url,
    mistUrl,
    databaseUrl,
    pid: child.pid!,
    stop: async () => {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
      await dropDatabase(env.postgresUrl, database);
    },
  };
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
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
