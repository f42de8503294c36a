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

// `npm start` asks for nothing but Node: on a host without python3 the agent forks job processes
// itself, telling the caller what the spawner would, in the same order.
describe('Spawner on a host without python3', () => {
  it('forks the process from the agent, with its input, output, exit and close', async () => {
    const spawner = new Spawner('python3-not-on-this-host');
    const seen: string[] = [];
    let pid = 0;
    let stdout = '';
    await new Promise<void>((done) =>
      spawner.spawn(
        {
          command: '/bin/sh',
          argv: ['-c', 'read line; echo "got $line from $PPID"; echo oops >&2; exit 3'],
          cwd: tmpdir(),
          env: { PATH: '/usr/bin:/bin' },
          input: 'its arguments\n',
        },
        {
          spawned: (its) => {
            pid = its;
            seen.push('spawned');
          },
          output: (stream, chunk) => {
            if (stream === 'stdout') stdout += chunk.toString();
            else seen.push(`stderr ${chunk.toString().trim()}`);
          },
          exit: (code, signal) => seen.push(`exit ${code} ${signal}`),
          close: () => {
            seen.push('close');
            done();
          },
          failed: (error) => {
            seen.push(`failed ${error}`);
            done();
          },
        },
      ),
    );
    expect(spawner.forksInAgent).toBe(true);
    expect(spawner.pid).toBeNull();
    expect(pid).toBeGreaterThan(0);
    expect(stdout).toBe(`got its arguments from ${process.pid}\n`);
    // Output may come before or after the exit (pipes and the exit are apart); close is last.
    expect(seen.filter((s) => !s.startsWith('stderr'))).toEqual(['spawned', 'exit 3 null', 'close']);
    expect(seen).toContain('stderr oops');
  });

  it('fails a program that cannot start, saying why, with no exit or close', async () => {
    const spawner = new Spawner('python3-not-on-this-host');
    const seen: string[] = [];
    await new Promise<void>((done) => {
      spawner.spawn(
        { command: join(tmpdir(), 'no-such-program'), argv: [], cwd: tmpdir(), env: {}, input: '' },
        {
          spawned: () => seen.push('spawned'),
          output: () => undefined,
          exit: () => seen.push('exit'),
          close: () => seen.push('close'),
          failed: (error) => {
            seen.push(`failed ${error}`);
            done();
          },
        },
      );
    });
    await new Promise((r) => setTimeout(r, 100)); // anything after the failure would come by now
    expect(seen).toEqual([expect.stringMatching(/^failed spawn .*no-such-program ENOENT$/)]);
  });
});
