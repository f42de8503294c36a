import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Jail } from './confinement';
import type { HostConfinement } from './confinement';
import { runProcessTask } from './process-task';
import { TaskDirectories } from './task-directories';
import { Runner } from './runner';
import type { RunnerLanguage } from './runner';
import type { RunningTask, TaskOutput, TaskSpec } from './types';

type ExitListener = (
  pid: number,
  code: number | null,
  signal: string | null,
  lastLines: readonly string[],
) => void;
type StartListener = (pid: number, language: RunnerLanguage) => void;

// One worker's processes: a long-lived runner per language it has needed (node, python, the JVM
// for jvm-runner tasks), reused by every task of the worker and running them concurrently, and a
// process of its own for every exec or jvm task. A runner that dies or is killed is replaced by a fresh one at the next task.
// Exclusive contexts make one sandbox per job; shared contexts keep one per worker.
// Confined, every process of the worker runs as one user leased from the host's job-user pool
// for the worker's lifetime; stopping the worker kills every process of that user (also those
// that detached from their process group) before the user goes back to the pool.
// No output line is longer: a longer one is cut into lines of this many bytes.
export const MAX_LINE_BYTES = 64 * 1024;

export class WorkerSandbox {
  private readonly runners = new Map<RunnerLanguage, Runner>();
  private readonly retired = new Set<Runner>();
  private readonly own = new Set<RunningTask>();
  private readonly exitListeners: ExitListener[] = [];
  private readonly startListeners: StartListener[] = [];
  private readonly maxLineBytes: number;
  private stopped = false;
  private jail: Promise<Jail> | undefined;
  private readonly taskDirectories: TaskDirectories;

  constructor(
    private readonly options: {
      workerId: string;
      baseDir: string;
      maxLineBytes?: number;
      unresponsiveGraceMs?: number;
      confinement?: HostConfinement;
      // Files the agent itself puts into a task's directory (the loggers file): a directory that
      // holds only these after its task is kept for the next (task-directories.ts).
      agentFiles?: readonly string[];
    },
  ) {
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.taskDirectories = new TaskDirectories(join(options.baseDir, 'jobs'), options.agentFiles ?? []);
  }

  // The worker's long-lived process: its current runner (node first), null before its first.
  get pid(): number | null {
    for (const language of ['node', 'python', 'jvm'] as const) {
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

  // The directory of the worker's task `jobId` (its working directory, the spec's workDir): inside
  // the worker's own, so that a runner's read-only view, which must let it write the directories
  // of tasks that arrive after it started, is its worker's directory alone (docs/security.md).
  taskDirectory(jobId: string): string {
    return this.taskDirectories.pathOf(jobId);
  }

  // Makes that directory, before anything of its task is put there; closeTaskDirectory after it.
  openTaskDirectory(jobId: string): string {
    return this.taskDirectories.open(jobId);
  }

  closeTaskDirectory(path: string): Promise<void> {
    return this.taskDirectories.close(path);
  }

  onRunnerExit(listener: ExitListener): void {
    this.exitListeners.push(listener);
  }

  onRunnerStart(listener: StartListener): void {
    this.startListeners.push(listener);
  }

  async run(spec: TaskSpec, output: TaskOutput): Promise<RunningTask> {
    if (this.stopped) throw new Error(`worker ${this.options.workerId} is stopped`);
    const jail = await this.jailed();
    // The job's own directory exists, its user's alone, before anything of it runs.
    await jail.prepare(spec.workDir);
    if (spec.runtime === 'exec' || spec.runtime === 'jvm') {
      const task = await runProcessTask(spec, output, this.maxLineBytes, jail);
      this.own.add(task);
      void task.done.then(() => this.own.delete(task));
      return task;
    }
    if (this.stopped) throw new Error(`worker ${this.options.workerId} is stopped`);
    // Found or started with no await in between: tasks arriving together share one runner.
    return this.runnerFor(spec.runtime === 'jvm-runner' ? 'jvm' : spec.runtime, jail).run(spec, output);
  }

  // The worker's jail: its user leased at its first task (and its directory made that user's).
  private jailed(): Promise<Jail> {
    this.jail ??= (async () => {
      const jail = await Jail.lease(this.options.confinement, () => this.stopped);
      await jail.prepare(this.options.baseDir);
      return jail;
    })();
    return this.jail;
  }

  private runnerFor(language: RunnerLanguage, jail: Jail): Runner {
    const current = this.runners.get(language);
    if (current?.alive) return current;
    if (current?.present) this.retired.add(current); // dying: its last tasks still end there
    const runner = new Runner(
      language,
      {
        onStart: (pid) => {
          for (const listener of this.startListeners) listener(pid, language);
        },
        onExit: (pid, code, signal, lastLines) => {
          this.retired.delete(runner);
          for (const listener of this.exitListeners) listener(pid, code, signal, lastLines);
        },
      },
      this.options.unresponsiveGraceMs,
      jail,
    );
    this.runners.set(language, runner);
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
    // Whatever a job left behind (a daemon it started with setsid, a child holding its stdout):
    // ended through the processes' cgroups where the host has them, else by the user's lease.
    if (this.jail)
      await this.jail.then(
        (jail) => jail.release(),
        () => undefined,
      );
    // Its directory and whatever its jobs left there: a worker is never started again (an
    // exclusive context makes one per job), so nothing else would ever remove it.
    this.taskDirectories.clear();
    await rm(this.options.baseDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
