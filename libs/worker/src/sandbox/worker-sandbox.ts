import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { runProcessTask } from './process-task';
import { Runner } from './runner';
import type { RunnerLanguage } from './runner';
import type { RunningTask, TaskOutput, TaskSpec } from './types';

type ExitListener = (pid: number, code: number | null, signal: string | null) => void;
type StartListener = (pid: number, language: RunnerLanguage) => void;

// One worker's processes: a long-lived runner per language it has needed (node, python), reused by
// every task of the worker and running them concurrently, and a process of its own for every exec
// or jvm task. A runner that dies or is killed is replaced by a fresh one at the next task.
// Exclusive contexts make one sandbox per job; shared contexts keep one per worker.
export class WorkerSandbox {
  private readonly runners = new Map<RunnerLanguage, Runner>();
  private readonly retired = new Set<Runner>();
  private readonly own = new Set<RunningTask>();
  private readonly exitListeners: ExitListener[] = [];
  private readonly startListeners: StartListener[] = [];
  private readonly maxLineBytes: number;
  private stopped = false;

  constructor(
    private readonly options: {
      workerId: string;
      baseDir: string;
      maxLineBytes?: number;
      unresponsiveGraceMs?: number;
    },
  ) {
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  }

  // The worker's long-lived process: its current runner (node first), null before its first.
  get pid(): number | null {
    for (const language of ['node', 'python'] as const) {
      const runner = this.runners.get(language);
      if (runner?.alive) return runner.pid;
    }
    return null;
  }

  runningTasks(): number {
    let n = this.own.size;
    for (const runner of this.runners.values()) n += runner.size;
    for (const runner of this.retired) n += runner.size;
    return n;
  }

  onRunnerExit(listener: ExitListener): void {
    this.exitListeners.push(listener);
  }

  onRunnerStart(listener: StartListener): void {
    this.startListeners.push(listener);
  }

  async run(spec: TaskSpec, output: TaskOutput): Promise<RunningTask> {
    if (this.stopped) throw new Error(`worker ${this.options.workerId} is stopped`);
    // The job's own directory exists before anything of it runs.
    await mkdir(spec.workDir, { recursive: true });
    if (spec.runtime === 'exec' || spec.runtime === 'jvm') {
      const task = await runProcessTask(spec, output, this.maxLineBytes);
      this.own.add(task);
      void task.done.then(() => this.own.delete(task));
      return task;
    }
    if (this.stopped) throw new Error(`worker ${this.options.workerId} is stopped`);
    // Found or started with no await in between: tasks arriving together share one runner.
    return this.runnerFor(spec.runtime).run(spec, output);
  }

  private runnerFor(language: RunnerLanguage): Runner {
    const current = this.runners.get(language);
    if (current?.alive) return current;
    if (current?.present) this.retired.add(current); // dying: its last tasks still end there
    const runner = new Runner(
      language,
      {
        onStart: (pid) => {
          for (const listener of this.startListeners) listener(pid, language);
        },
        onExit: (pid, code, signal) => {
          this.retired.delete(runner);
          for (const listener of this.exitListeners) listener(pid, code, signal);
        },
      },
      this.options.unresponsiveGraceMs,
    );
    this.runners.set(language, runner);
    mkdirSync(this.options.baseDir, { recursive: true });
    runner.start(this.options.baseDir);
    return runner;
  }

  // Ends every task (cancelled) and every process of the worker; resolves when all are gone.
  async stop(): Promise<void> {
    this.stopped = true;
    const tasks = [...this.own];
    for (const task of tasks) task.cancel('its worker stopped');
    const runners = [...this.runners.values(), ...this.retired];
    for (const runner of runners) runner.kill();
    await Promise.all(tasks.map((t) => t.done));
    const deadline = Date.now() + 5_000;
    while (runners.some((r) => r.present) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
