import type { ChildProcess } from 'node:child_process';

// Stops what tools/test-infra started (only that): it stops when its channel closes.
export default async function teardown(): Promise<void> {
  const child = (globalThis as { [key: symbol]: ChildProcess | undefined })[Symbol.for('spindle.test-infra')];
  if (!child?.connected) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  await exited;
}
