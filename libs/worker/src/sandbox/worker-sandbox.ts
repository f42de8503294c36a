import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { runProcessTask } from './process-task';
import { Runner } from './runner';
import type { RunnerLanguage } from './runner';
import type { RunningTask, TaskOutput, TaskSpec } from './types';

type ExitListener = (pid: number, code: number | null, signal: string | null) => void;

// One worker's processes: a long-lived runner per language it has needed (node, python), reused by
// every task of the worker and running them concurrently, and a process of its own for every exec
// or jvm task. Exclusive contexts make one sandbox per job; shared contexts keep one.
export class WorkerSandbox {
  private readonly runners = new Map<RunnerLanguage, Runner>();
  private readonly own = new Set<RunningTask>();
  private readonly exitListeners: ExitListener[] = [];
  private readonly maxLineBytes: number;
  private stopped = false;

  constructor(private readonly options: { workerId: string; baseDir: string; maxLineBytes?: number }) {
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
  }

  get pid(): number | null {
    for (const runner of this.runners.values()) if (runner.alive) return runner.pid;
    return null;
  }

  runningTasks(): number {
    let n = this.own.size;
    for (const runner of this.runners.values()) n += runner.size;
    return n;
  }

  onRunnerExit(listener: ExitListener): void {
    this.exitListeners.push(listener);
  }

  async run(spec: TaskSpec, output: TaskOutput): Promise<RunningTask> {
    if (this.stopped) throw new Error(`worker ${this.options.workerId} is stopped`);
    if (spec.runtime === 'exec' || spec.runtime === 'jvm') {
      await mkdir(spec.workDir, { recursive: true });
      const task = await runProcessTask(spec, output, this.maxLineBytes);
      this.own.add(task);
      void task.done.then(() => this.own.delete(task));
      return task;
    }
    // Found or started before any await: tasks arriving together share one runner.
    const language: RunnerLanguage = spec.runtime;
    let runner = this.runners.get(language);
    if (!runner?.alive) {
      mkdirSync(this.options.baseDir, { recursive: true });
      runner = new Runner(language, (pid, code, signal) => {
        for (const listener of this.exitListeners) listener(pid, code, signal);
      });
      runner.start(spec, this.options.baseDir);
      this.runners.set(language, runner);
    }
    const running = runner.run(spec, output);
    await mkdir(spec.workDir, { recursive: true });
    return running;
  }

  // Ends every task (cancelled) and every process of the worker; resolves when all are gone.
  async stop(): Promise<void> {
    this.stopped = true;
    const tasks = [...this.own];
    for (const task of tasks) task.cancel('its worker stopped');
    for (const runner of this.runners.values()) runner.kill();
    await Promise.all(tasks.map((t) => t.done));
    const deadline = Date.now() + 5_000;
    while ([...this.runners.values()].some((r) => r.alive) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
