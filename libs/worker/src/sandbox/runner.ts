import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogStream } from '@spindle/contracts';
import { baseEnv, killGroup } from './types';
import type { RunningTask, TaskOutput, TaskResult, TaskSpec } from './types';

type RunnerMessage =
  | { type: 'log'; taskId: string; stream: LogStream; text: string }
  | { type: 'result'; taskId: string; ok: boolean; value?: unknown; error?: string };

interface RunnerTask {
  readonly output: TaskOutput;
  readonly resolve: (result: TaskResult) => void;
  stopped?: { outcome: 'cancelled' | 'timed_out'; error: string };
  timer?: NodeJS.Timeout;
}

export type RunnerLanguage = 'node' | 'python';

const BOOTSTRAP = {
  node: join(__dirname, 'bootstrap', 'node-runner.cjs'),
  python: join(__dirname, 'bootstrap', 'python-runner.py'),
};

// A long-lived node or python process that runs many tasks of one worker, concurrently, speaking
// the bootstrap's small protocol (node: the fork IPC channel; python: JSON lines on stdin/stdout).
export class Runner {
  private child: ChildProcess | undefined;
  private readonly tasks = new Map<string, RunnerTask>();
  private exited = false;

  constructor(
    private readonly language: RunnerLanguage,
    private readonly onExit: (pid: number, code: number | null, signal: string | null) => void,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get alive(): boolean {
    return this.child !== undefined && !this.exited;
  }

  get size(): number {
    return this.tasks.size;
  }

  start(first: TaskSpec, cwd: string): void {
    const env = baseEnv(first);
    const child =
      this.language === 'node'
        ? fork(BOOTSTRAP.node, [], {
            cwd,
            env,
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
            execArgv: [],
          })
        : spawn('python3', ['-u', BOOTSTRAP.python], {
            cwd,
            env,
            detached: true,
            stdio: ['pipe', 'pipe', 'pipe'],
          });
    this.child = child;
    if (this.language === 'node') {
      child.on('message', (m) => this.handle(m as RunnerMessage));
      this.forwardLoose(child.stdout!);
    } else {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          this.handle(JSON.parse(line) as RunnerMessage);
        } catch {
          this.loose(line);
        }
      });
      child.stdin!.on('error', () => undefined);
    }
    this.forwardLoose(child.stderr!);
    child.on('error', (e) => this.fail(`the ${this.language} runner could not start: ${e.message}`));
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.fail(
        `the ${this.language} runner ended (${signal ? `killed by ${signal}` : `exit code ${code}`})`,
      );
      if (child.pid) this.onExit(child.pid, code, signal);
    });
  }

  run(spec: TaskSpec, output: TaskOutput): RunningTask {
    const child = this.child!;
    let task!: RunnerTask;
    const done = new Promise<TaskResult>((resolve) => {
      task = { output, resolve };
    });
    this.tasks.set(spec.jobId, task);
    if (spec.performTimeoutMs !== null) {
      task.timer = setTimeout(
        () =>
          this.stop(
            spec.jobId,
            'timed_out',
            `not finished within its performTimeout (${spec.performTimeoutMs} ms)`,
          ),
        spec.performTimeoutMs,
      );
    }
    const message = {
      type: 'run',
      taskId: spec.jobId,
      file: spec.programPath,
      entrypoint: spec.entrypoint,
      args: spec.args,
      workDir: spec.workDir,
    };
    if (this.language === 'node') child.send(message);
    else child.stdin!.write(`${JSON.stringify(message)}\n`);
    return {
      pid: child.pid ?? -1,
      done,
      cancel: (reason = 'cancelled') => this.stop(spec.jobId, 'cancelled', reason),
    };
  }

  kill(): void {
    if (this.child?.pid && !this.exited) killGroup(this.child.pid);
  }

  // A task alone in its runner dies with the runner; one sharing it with others cannot be torn
  // out of a JS event loop or a Python thread, so it is abandoned: it ends now, its result is dropped.
  private stop(taskId: string, outcome: 'cancelled' | 'timed_out', error: string): void {
    const task = this.tasks.get(taskId);
    if (!task || task.stopped) return;
    task.stopped = { outcome, error };
    if (this.tasks.size === 1) {
      this.kill(); // the exit handler ends the task with its stopped outcome
      return;
    }
    this.finish(taskId, task.stopped);
  }

  private handle(message: RunnerMessage): void {
    const task = this.tasks.get(message.taskId);
    if (!task) return;
    if (message.type === 'log') {
      task.output.line(message.stream, message.text, new Date());
      return;
    }
    if (task.stopped) return this.finish(message.taskId, task.stopped);
    this.finish(
      message.taskId,
      message.ok
        ? { outcome: 'succeeded', result: message.value ?? null }
        : { outcome: 'failed', error: message.error ?? 'failed' },
    );
  }

  private finish(taskId: string, result: TaskResult): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    clearTimeout(task.timer);
    this.tasks.delete(taskId);
    task.resolve(result);
  }

  private fail(error: string): void {
    for (const [taskId, task] of this.tasks)
      this.finish(taskId, task.stopped ?? { outcome: 'failed', error });
  }

  // Output of the runner outside any task: the one running task's, as `system` lines, if there is
  // exactly one; otherwise it cannot be told whose it is.
  private forwardLoose(stream: NodeJS.ReadableStream): void {
    createInterface({ input: stream }).on('line', (line) => this.loose(line));
  }

  private loose(line: string): void {
    if (this.tasks.size !== 1) return;
    const [task] = this.tasks.values();
    task!.output.line('system', line, new Date());
  }
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
