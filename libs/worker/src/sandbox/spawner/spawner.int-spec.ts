import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@spindle/testing';
import { WorkerSandbox } from '../worker-sandbox';
import type { TaskSpec } from '../types';
import { Spawner } from './spawner';

jest.setTimeout(60_000);

// The parent of a process (/proc/<pid>/status).
function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

describe('Spawner: exec tasks start from the spawner, not from the agent', () => {
  let dir: string;
  let sandbox: WorkerSandbox;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spindle-spawner-'));
    sandbox = new WorkerSandbox({ workerId: 'w-spawner', baseDir: join(dir, 'worker') });
    // Prints its own pid and its parent's, then waits until its input says stop (or for ever).
    writeFileSync(
      join(dir, 'who.sh'),
      '#!/bin/sh\necho "{\\"pid\\": $$, \\"parent\\": $PPID}"\nread line || true\n',
      {
        mode: 0o755,
      },
    );
  });

  afterEach(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function spec(program: string, args: Record<string, unknown> = {}): TaskSpec {
    const jobId = `job-${Math.random().toString(36).slice(2, 10)}`;
    return {
      jobId,
      runtime: 'exec',
      programPath: join(dir, program),
      entrypoint: '',
      args,
      workDir: join(dir, 'jobs', jobId),
      env: { SPINDLE_JOB_ID: jobId },
      performTimeoutMs: null,
    };
  }

  it("is the parent of a job's process (the agent forks nothing per job), which gets its arguments on stdin", async () => {
    const running = await sandbox.run(spec('who.sh', { any: 'thing' }), { line: () => undefined });
    const result = await running.done;
    expect(result).toMatchObject({ outcome: 'succeeded' });
    const { pid, parent } = (result as { result: { pid: number; parent: number } }).result;
    expect(pid).toBe(running.pid);
    expect(parent).toBe(Spawner.shared.pid);
    expect(parent).not.toBe(process.pid);
  });

  it('ends a running task, and its process, when the spawner dies; the next task gets a fresh spawner', async () => {
    writeFileSync(join(dir, 'wait.sh'), '#!/bin/sh\necho started\nexec sleep 60\n', { mode: 0o755 });
    const lines: string[] = [];
    const running = await sandbox.run(spec('wait.sh'), { line: (_stream, text) => lines.push(text) });
    await running.started;
    while (!lines.includes('started')) await new Promise((r) => setTimeout(r, 20));
    const first = Spawner.shared.pid!;
    expect(parentOf(running.pid)).toBe(first);
    Spawner.shared.stop();
    const result = await running.done;
    expect(result).toEqual({ outcome: 'failed', error: "its host's spawner ended while it ran" });
    // Its process group was told to end with the task.
    for (let waited = 0; processAlive(running.pid) && waited < 5_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    expect(processAlive(running.pid)).toBe(false);

    const next = await sandbox.run(spec('who.sh'), { line: () => undefined });
    const again = await next.done;
    expect(again.outcome).toBe('succeeded');
    expect(Spawner.shared.pid).not.toBe(first);
    expect((again as { result: { parent: number } }).result.parent).toBe(Spawner.shared.pid);
  });

  it('refuses a spawn larger than its channel carries, saying so, and stays up', async () => {
    const big = { blob: 'x'.repeat(9 * 1024 * 1024) };
    const running = await sandbox.run(spec('who.sh', big), { line: () => undefined });
    const result = await running.done;
    expect(result.outcome).toBe('failed');
    expect((result as { error: string }).error).toMatch(/more than 8388608 bytes/);
    const next = await sandbox.run(spec('who.sh'), { line: () => undefined });
    expect((await next.done).outcome).toBe('succeeded');
  });
});
