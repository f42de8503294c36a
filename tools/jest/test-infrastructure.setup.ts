import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// Global setup of the integration project only (unit runs start nothing): the broker and the
// database the suites need, started by tools/test-infra when they are not already up.
const INFRA = Symbol.for('spindle.test-infra'); // read by the global teardown
type WithInfra = typeof globalThis & { [INFRA]?: ChildProcess };

export default async function setup(): Promise<void> {
  const root = join(__dirname, '..', '..');
  // A process of its own, compiled like `npm start` (with the @spindle/* aliases).
  const child = fork(join(root, 'tools', 'test-infra', 'test-infra.ts'), [], {
    cwd: root,
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('message', (m: { env: Record<string, string> }) => resolve(m.env));
    child.once('exit', (code) => {
      const e = new Error(`the test infrastructure did not start (exit code ${code}; the cause is above)`);
      e.stack = e.message; // the cause is already printed, in one line
      reject(e);
    });
  });
  Object.assign(process.env, env);
  (globalThis as WithInfra)[INFRA] = child;
}
