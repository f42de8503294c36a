import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// `npm run start:all`: every service as its own process against Kafka and Postgres, the real
// topology on one machine. Output is prefixed by service; if one dies, all are stopped.
const SERVICES = [
  'scheduler',
  'projector',
  'artifact-store',
  'log-collector',
  'secrets',
  'worker',
  'gateway',
];
const root = join(__dirname, '..', '..');
const children = new Map<string, ChildProcess>();
let stopping = false;

function start(service: string): void {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join('apps', service, 'src', 'main.ts')],
    {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.set(service, child);
  const label = service.padEnd(14);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label}| ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(service);
    if (!stopping) {
      process.stdout.write(`${label}| exited (${signal ?? code}); stopping the others\n`);
      void stopAll(1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  // Whatever has not stopped within 10 s is killed.
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code);
  }, 10_000).unref();
  if (children.size === 0) process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
for (const service of SERVICES) start(service);
