import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { LOG_STREAMS } from '@spindle/contracts';
import { outOfMemoryError } from './cgroups';
import type { ProcessCgroup } from './cgroups';
import { Jail } from './confinement';
import { BoundedLines, RUNNER_MESSAGE_MAX_BYTES } from './runner-channel';
import { JVM_RUNNER_BUILD, JVM_RUNNER_MAIN, bootstrapOf, jvmRunnerClassPath } from './runtime-files';
import { killGroup, timerFrom } from './types';
import type { RunningTask, TaskOutput, TaskResult, TaskSpec } from './types';

// Everything a runner may say. A runner runs job code, so a message is checked before it is
// believed: one that does not parse (null, a wrong type, a missing field) is logged as the
// runner's own output and changes nothing, so that no job can crash or mislead the agent.
const runnerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), taskId: z.string(), at: z.number().finite() }),
  z.object({
    type: z.literal('log'),
    taskId: z.string(),
    stream: z.enum(LOG_STREAMS),
    text: z.string(),
  }),
  z.object({
    type: z.literal('result'),
    taskId: z.string(),
    ok: z.boolean(),
    value: z.unknown().optional(),
    error: z.string().optional(),
  }),
  z.object({ type: z.literal('pong'), id: z.number().int() }),
]);
type RunnerMessage = z.infer<typeof runnerMessage>;

type Stopped = { outcome: 'cancelled' | 'timed_out'; error: string };

interface RunnerTask {
  readonly spec: TaskSpec;
  readonly output: TaskOutput;
  readonly resolve: (result: TaskResult) => void;
  readonly began: (at: Date | null) => void;
  startedAt?: Date;
  stopped?: Stopped;
  timer?: { clear(): void };
}

export type RunnerLanguage = 'node' | 'python' | 'jvm';

export interface RunnerHooks {
  onStart?(pid: number): void;
  // `lastLines`: the runner's own last output lines (none of a task's), which say why it died.
  onExit(pid: number, code: number | null, signal: string | null, lastLines: readonly string[]): void;
}

// A runner's own output lines kept for the agent's log when it dies: with several tasks running
// they are no task's, and a crash's stack went nowhere.
const LAST_LINES = 20;

// How long a runner may take to answer a ping after one of its tasks was abandoned before it is
// taken for blocked (a task that never yields) and killed. Generous: a busy host answers slowly.
export const UNRESPONSIVE_GRACE_MS = 5_000;

// A long-lived node, python or JVM process that runs many tasks of one worker, concurrently,
// speaking the bootstrap's small protocol: JSON lines, each at most RUNNER_MESSAGE_MAX_BYTES; the
// runner's on fd 3 (node: both ways; python: the agent's on stdin), the JVM's on its stdout (a JVM
// cannot open an inherited socket by number; its System.out is the tasks', see JvmRunner.java) and
// the agent's on its stdin.
export class Runner {
  private child: ChildProcess | undefined;
  private readonly tasks = new Map<string, RunnerTask>();
  private readonly lastLines: string[] = [];
  private exited = false;
  private retiring = false; // being killed: takes no new task
  private deathReason: string | undefined;
  private readonly pings = new Map<number, NodeJS.Timeout>();
  private lastPing = 0;

  constructor(
    private readonly language: RunnerLanguage,
    private readonly hooks: RunnerHooks,
    private readonly graceMs = UNRESPONSIVE_GRACE_MS,
    private readonly jail: Jail = Jail.unconfined,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  // Takes new tasks.
  get alive(): boolean {
    return this.child !== undefined && !this.exited && !this.retiring;
  }

  // Its process is still there (perhaps dying).
  get present(): boolean {
    return this.child !== undefined && !this.exited;
  }

  get size(): number {
    return this.tasks.size;
  }

  // The process environment holds no job's variables: several jobs share it. Each task brings
  // its own (SPINDLE_JOB_ID, ...), which the bootstrap shows to that task alone. The protocol has a
  // channel of its own (fd 3, a socket), apart from the output of the code it runs, so that what a
  // job prints is never taken for a message. Not node's IPC channel: it has no bound on a message,
  // so one job sending a huge one would fill the agent's memory.
  start(cwd: string): void {
    const env = this.jail.env({}, cwd);
    const launch = this.launch();
    if (typeof launch === 'string') {
      this.exited = true; // nothing to start: every task it is given fails, saying why
      this.deathReason = launch;
      return;
    }
    let cgroup: ProcessCgroup | null;
    try {
      cgroup = this.jail.cgroupFor(`runner-${this.language}`);
    } catch (e) {
      this.exited = true;
      this.deathReason = `the ${this.language} runner has no cgroup: ${(e as Error).message}`;
      return;
    }
    let confined: ReturnType<Jail['command']>;
    try {
      // Its tasks' directories are inside the one it starts in (WorkerSandbox.taskDirectory).
      confined = this.jail.command(launch.program, launch.argv, cgroup, [cwd]);
    } catch (e) {
      this.exited = true;
      this.deathReason = `the ${this.language} runner cannot be confined: ${(e as Error).message}`;
      void cgroup?.remove();
      return;
    }
    const { command, argv, release } = confined;
    const child = spawn(command, argv, {
      cwd,
      env,
      detached: true,
      stdio: [this.language === 'node' ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    const channel = (this.language === 'jvm' ? child.stdout : child.stdio[3]) as Duplex;
    const lines = new BoundedLines(
      RUNNER_MESSAGE_MAX_BYTES,
      (line) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return this.loose(line);
        }
        this.receive(parsed, line);
      },
      () => this.oversized(),
    );
    channel.on('data', (chunk: Buffer) => lines.push(chunk));
    channel.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    if (this.language !== 'jvm') this.forwardLoose(child.stdout!);
    this.forwardLoose(child.stderr!);
    child.on('error', (e) => {
      release();
      this.fail(`the ${this.language} runner could not start: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      release();
      this.exited = true;
      if (cgroup?.outOfMemory())
        this.deathReason ??= `the ${this.language} runner (pid ${child.pid}) was ${outOfMemoryError(cgroup.limits)}`;
      void cgroup?.remove(); // and whatever its tasks left behind
      for (const timer of this.pings.values()) clearTimeout(timer);
      this.pings.clear();
      this.fail(
        `the ${this.language} runner ended (${signal ? `killed by ${signal}` : `exit code ${code}`})`,
      );
      if (child.pid) this.hooks.onExit(child.pid, code, signal, this.lastLines);
    });
    if (child.pid) this.hooks.onStart?.(child.pid);
  }

  // What to run, or why it cannot start.
  private launch(): { program: string; argv: string[] } | string {
    const max = String(RUNNER_MESSAGE_MAX_BYTES);
    const files = this.jail.runtimeFiles;
    switch (this.language) {
      case 'node':
        return { program: process.execPath, argv: [bootstrapOf(files, 'node'), max] };
      case 'python':
        return { program: 'python3', argv: ['-u', bootstrapOf(files, 'python'), max] };
      case 'jvm': {
        const classPath = jvmRunnerClassPath(files);
        if (classPath === undefined)
          return `the JVM runner is not built on this host: run ${JVM_RUNNER_BUILD} (it needs java, javac and mvn)`;
        // The class path as an option, not a variable: the job's own CLASSPATH means nothing here.
        return { program: 'java', argv: ['-cp', classPath, JVM_RUNNER_MAIN, max] };
      }
    }
  }

  private receive(raw: unknown, line: string): void {
    const message = runnerMessage.safeParse(raw);
    if (message.success) return this.handle(message.data);
    this.loose(`[spindle] ignored a malformed ${this.language} runner message: ${line.slice(0, 200)}`);
  }

  // A message past the bound cannot be told apart from garbage, nor whose it is: the runner is
  // killed, and its tasks fail saying why (the agent and the worker's next runner go on).
  private oversized(): void {
    if (!this.present) return;
    this.deathReason ??=
      `the ${this.language} runner (pid ${this.pid}) was killed: it sent a message larger than ` +
      `${RUNNER_MESSAGE_MAX_BYTES} bytes, the most its channel carries (a result or a line that large ` +
      `belongs in a file)`;
    this.kill();
  }

  run(spec: TaskSpec, output: TaskOutput): RunningTask {
    const started = deferred<Date | null>();
    const result = deferred<TaskResult>();
    const task: RunnerTask = { spec, output, resolve: result.resolve, began: started.resolve };
    if (this.child === undefined && this.deathReason !== undefined) {
      // It could not start (see launch): the task ends now, saying why.
      started.resolve(null);
      result.resolve({ outcome: 'failed', error: this.deathReason });
      return { pid: -1, started: started.promise, done: result.promise, cancel: () => undefined };
    }
    this.tasks.set(spec.jobId, task);
    const limit = spec.performTimeoutMs;
    if (limit !== null) {
      // Should the runner never say it began (a message stuck behind a blocked event loop), the
      // task still ends: counted from now, with the grace on top.
      const sentAt = new Date();
      task.timer = timerFrom(sentAt, limit + this.graceMs, () => {
        if (!task.startedAt) {
          task.startedAt = sentAt;
          task.began(sentAt);
        }
        this.stop(spec.jobId, { outcome: 'timed_out', error: timedOut(limit) });
      });
    }
    this.send({
      type: 'run',
      taskId: spec.jobId,
      file: spec.programPath,
      libraries: spec.libraryPaths ?? [],
      entrypoint: spec.entrypoint,
      args: spec.args,
      workDir: spec.workDir,
      env: spec.env,
    });
    return {
      pid: this.child?.pid ?? -1,
      started: started.promise,
      done: result.promise,
      cancel: (reason = 'cancelled') => this.stop(spec.jobId, { outcome: 'cancelled', error: reason }),
    };
  }

  kill(): void {
    if (!this.child?.pid || this.exited) return;
    this.retiring = true;
    killGroup(this.child.pid);
  }

  // A task alone in its runner dies with the runner. One sharing it with others cannot be torn
  // out of a JS event loop or a Python thread: it is told to stop (node: its signal is aborted;
  // python: an exception is raised in its thread), it ends now and its result is dropped. If the
  // runner then does not answer a ping, the task is blocking it: the runner is killed (its other
  // tasks fail, saying why) and the worker's next task gets a fresh one.
  private stop(taskId: string, stopped: Stopped): void {
    const task = this.tasks.get(taskId);
    if (!task || task.stopped) return;
    task.stopped = stopped;
    if (this.tasks.size === 1) {
      this.kill(); // the exit handler ends the task with its stopped outcome
      return;
    }
    this.send({ type: 'cancel', taskId, reason: stopped.error });
    this.finish(taskId, stopped);
    const how = stopped.outcome === 'timed_out' ? 'timed out' : 'cancelled';
    this.checkResponsive(`job ${taskId} ${how}`);
  }

  private checkResponsive(after: string): void {
    if (!this.present) return;
    const id = ++this.lastPing;
    this.pings.set(
      id,
      setTimeout(() => {
        this.pings.delete(id);
        if (!this.present) return;
        this.deathReason =
          `the ${this.language} runner (pid ${this.pid}) was killed: it did not answer within ` +
          `${this.graceMs} ms after ${after}, which kept it busy (a task that never yields blocks ` +
          `every task of its runner)`;
        this.kill();
      }, this.graceMs),
    );
    this.send({ type: 'ping', id });
  }

  private handle(message: RunnerMessage): void {
    if (message.type === 'pong') {
      clearTimeout(this.pings.get(message.id));
      this.pings.delete(message.id);
      return;
    }
    const task = this.tasks.get(message.taskId);
    if (!task) return;
    switch (message.type) {
      case 'started': {
        if (task.startedAt || task.stopped) return;
        // The runner's own clock (this host's): the moment the task began, start-up not counted.
        task.startedAt = new Date(message.at);
        task.began(task.startedAt);
        const limit = task.spec.performTimeoutMs;
        if (limit !== null) {
          task.timer?.clear();
          task.timer = timerFrom(task.startedAt, limit, () =>
            this.stop(message.taskId, { outcome: 'timed_out', error: timedOut(limit) }),
          );
        }
        return;
      }
      case 'log':
        task.output.line(message.stream, message.text, new Date());
        return;
      case 'result':
        if (task.stopped) return this.finish(message.taskId, task.stopped);
        this.finish(
          message.taskId,
          message.ok
            ? { outcome: 'succeeded', result: message.value ?? null }
            : { outcome: 'failed', error: message.error ?? 'failed' },
        );
        return;
    }
  }

  private finish(taskId: string, result: TaskResult): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    task.timer?.clear();
    this.tasks.delete(taskId);
    if (!task.startedAt) task.began(null);
    task.resolve(result);
  }

  private fail(error: string): void {
    for (const [taskId, task] of this.tasks)
      this.finish(taskId, task.stopped ?? { outcome: 'failed', error: this.deathReason ?? error });
  }

  private send(message: Record<string, unknown>): void {
    const child = this.child;
    if (!child || this.exited) return;
    const line = `${JSON.stringify(message)}\n`;
    if (this.language === 'node') (child.stdio[3] as Duplex).write(line);
    else child.stdin!.write(line); // python and the JVM read the agent's messages on stdin
  }

  // Output of the runner outside any task: the one running task's, as `system` lines, if there is
  // exactly one; otherwise it cannot be told whose it is.
  private forwardLoose(stream: NodeJS.ReadableStream): void {
    createInterface({ input: stream }).on('line', (line) => this.loose(line));
  }

  private loose(line: string): void {
    this.lastLines.push(line.length > 1_000 ? `${line.slice(0, 1_000)}…` : line);
    if (this.lastLines.length > LAST_LINES) this.lastLines.shift();
    if (this.tasks.size !== 1) return;
    const [task] = this.tasks.values();
    task!.output.line('system', line, new Date());
  }
}

function timedOut(limitMs: number): string {
  return `not finished within its performTimeout (${limitMs} ms)`;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
