import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartupError } from '../startup-error';
import { DATABASE_URL_FIX, errorText } from './postgres-placement';
import type { PostgresPlacement } from './postgres-placement';

export interface PostgresServer {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

// C messages, so that readiness can be read from the log whatever the machine's locale.
const ENV = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
const START_TIMEOUT_MS = 60_000;

export async function initCluster(
  place: PostgresPlacement,
  superuser: string,
  password: string,
): Promise<void> {
  const passwordFile = join(tmpdir(), `spindle-pg-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (place.user) chownSync(passwordFile, place.user.uid, place.user.gid);
    const args = [
      `--pgdata=${place.dataDir}`,
      '--auth=password',
      `--username=${superuser}`,
      `--pwfile=${passwordFile}`,
    ];
    const { code, output } = await run(place, 'initdb', [...args, '--encoding=UTF8', '--locale=C']);
    if (code !== 0)
      throw new StartupError(
        `initdb failed in ${place.dataDir}: ${lastLines(output)}`,
        `empty or remove ${place.dataDir}, set SPINDLE_DATA_DIR to another directory, or ${DATABASE_URL_FIX}`,
      );
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

export async function startServer(place: PostgresPlacement, port: number): Promise<PostgresServer> {
  const child = launch(place, 'postgres', [
    '-D',
    place.dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'lc_messages=C',
  ]);
  let output = '';
  const ready = await new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192);
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(spawnFailed(place, 'postgres', e));
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    child.kill('SIGKILL');
    throw startFailed(place, port, output);
  }
  // Keep draining its log, or it blocks once the pipe is full.
  child.stderr!.removeAllListeners('data').resume();
  return { process: child, stop: watchExit(child) };
}

function startFailed(place: PostgresPlacement, port: number, output: string): StartupError {
  const fatal =
    output
      .split('\n')
      .filter((l) => /FATAL|PANIC|HINT/.test(l))
      .join(' ') || lastLines(output);
  if (/address already in use|could not create any TCP\/IP sockets/i.test(output))
    return new StartupError(
      `the embedded PostgreSQL cannot listen on port ${port}, which is in use`,
      `stop what uses it (another npm start?), set EMBEDDED_PG_PORT to a free port, or ${DATABASE_URL_FIX}`,
    );
  if (/postmaster\.pid/.test(output))
    return new StartupError(
      `another PostgreSQL runs on ${place.dataDir} (${fatal.replace(/\s+/g, ' ').trim()})`,
      `stop it (an earlier npm start?), set SPINDLE_DATA_DIR to another directory, or ${DATABASE_URL_FIX}`,
    );
  return new StartupError(
    `the embedded PostgreSQL did not start on ${place.dataDir}: ${fatal.replace(/\s+/g, ' ').trim() || 'no output'}`,
    `set SPINDLE_DATA_DIR to another directory, or ${DATABASE_URL_FIX}`,
  );
}

function run(
  place: PostgresPlacement,
  binary: string,
  args: string[],
): Promise<{ code: number | null; output: string }> {
  const child = launch(place, binary, args);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(spawnFailed(place, binary, e)));
    child.once('close', (code) => resolve({ code, output }));
  });
}

function launch(place: PostgresPlacement, binary: string, args: string[]): ChildProcess {
  const ids = place.user ? { uid: place.user.uid, gid: place.user.gid } : {};
  // cwd "/": the caller's directory may be closed to the postgres user.
  return spawn(join(place.binDir, binary), args, {
    ...ids,
    cwd: '/',
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function spawnFailed(place: PostgresPlacement, binary: string, e: Error): StartupError {
  const who = place.user ? ` as the OS user ${place.user.name}` : '';
  return new StartupError(
    `cannot run ${join(place.binDir, binary)}${who} (${errorText(e)})`,
    `run npm install again, or ${DATABASE_URL_FIX}`,
  );
}

// Stops the server: a fast shutdown, SIGKILL if it has not ended within 30 s. (Who stops it with
// the process, at exit and at signals, is the embedded database's supervision, which outlives
// each server it starts.)
function watchExit(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return async () => {
    child.kill('SIGINT'); // fast shutdown
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
}

function lastLines(output: string): string {
  return output.trim().split('\n').slice(-3).join(' ').replace(/\s+/g, ' ') || 'no output';
}
