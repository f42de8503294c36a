import type { MapReduceProtocol } from '@spindle/contracts';
import { ObjectStorage } from '@spindle/platform';
import type { StorageCredentials, StorageLocation } from '@spindle/platform';
import { PROGRAM_PROTOCOLS } from './program-protocols';
import { ProgramFailure } from './program-protocol';
import { temporaryPrefix } from './shuffle';
import { DEFAULT_SPLIT_SIZE, planSplits } from './splits';
import type { InputSplit } from './splits';
import { runMapAttempt, runReduceAttempt } from './task-runs';

export const DEFAULT_TASK_TIMEOUT_MS = 10 * 60_000; // Hadoop's mapreduce.task.timeout
export const TASK_MAX_ATTEMPTS = 4; // the first and 3 retries, Hadoop's maxattempts

export interface MapReduceJobSpec {
  readonly jobId: string;
  readonly input: StorageLocation; // an object, or a prefix: every object under it
  readonly inputCredentials: StorageCredentials;
  readonly output: StorageLocation;
  readonly outputCredentials: StorageCredentials;
  readonly nReducers: number; // 0: map-only
  readonly splitSize?: number;
  readonly protocol: MapReduceProtocol;
  readonly mapperPath: string;
  readonly reducerPath: string | null; // null when nReducers is 0
  readonly taskTimeoutMs?: number; // without any sign of life from the program
  readonly slots: number; // tasks running at once
  readonly workRoot: string;
}

export type TaskKind = 'mapper' | 'reducer';

// What happens, in order, for the caller to record (events, read model, logs).
export type MapReduceProgress =
  | { readonly type: 'planned'; readonly maps: readonly InputSplit[]; readonly reducers: number }
  | {
      readonly type: 'task-started';
      readonly taskId: string;
      readonly kind: TaskKind;
      readonly attempt: number;
    }
  | { readonly type: 'task-succeeded'; readonly taskId: string; readonly attempt: number }
  | {
      readonly type: 'task-failed';
      readonly taskId: string;
      readonly attempt: number;
      readonly error: string;
      readonly retried: boolean;
    }
  | { readonly type: 'task-stopped'; readonly taskId: string; readonly attempt: number }
  | {
      readonly type: 'task-log';
      readonly taskId: string;
      readonly attempt: number;
      readonly stream: 'stdout' | 'stderr';
      readonly line: string;
    };

export type MapReduceOutcome =
  | { readonly state: 'succeeded' }
  | { readonly state: 'failed'; readonly error: string }
  | { readonly state: 'stopped'; readonly reason: string };

interface PendingTask {
  readonly taskId: string;
  readonly kind: TaskKind;
  readonly index: number;
  attempts: number;
}

export function taskIdOf(jobId: string, kind: TaskKind, index: number): string {
  return `${jobId}-${kind === 'mapper' ? 'm' : 'r'}-${index}`;
}

// One MapReduce job from start to end: plans the splits, runs every map task, then (once all of
// them succeeded) every reduce task, at most `slots` at once; a failed attempt goes to the back of
// the queue for another slot, until a task failed TASK_MAX_ATTEMPTS times and fails the job. The
// output is committed last: `_SUCCESS`, and the shuffle's `_temporary` deleted.
export class MapReduceRun {
  private readonly stopping = new AbortController();
  private readonly running = new Map<string, AbortController>();
  private failure: string | undefined;
  private readonly inputStorage: ObjectStorage;
  private readonly outputStorage: ObjectStorage;

  constructor(
    private readonly spec: MapReduceJobSpec,
    private readonly onProgress: (progress: MapReduceProgress) => void,
  ) {
    this.inputStorage = ObjectStorage.at(spec.input, spec.inputCredentials);
    this.outputStorage = ObjectStorage.at(spec.output, spec.outputCredentials);
  }

  // Kills every running task; run() then answers `stopped`.
  stop(reason: string): void {
    this.stopping.abort(reason);
    for (const task of this.running.values()) task.abort(reason);
  }

  async run(): Promise<MapReduceOutcome> {
    try {
      return await this.runPhases();
    } catch (e) {
      if (this.stopping.signal.aborted)
        return { state: 'stopped', reason: String(this.stopping.signal.reason) };
      return { state: 'failed', error: e instanceof Error ? e.message : String(e) };
    } finally {
      await this.outputStorage
        .deletePrefix(this.spec.output.bucket, temporaryPrefix(this.spec.output, this.spec.jobId))
        .catch(() => undefined);
      this.inputStorage.destroy();
      this.outputStorage.destroy();
    }
  }

  private async runPhases(): Promise<MapReduceOutcome> {
    const protocol = PROGRAM_PROTOCOLS[this.spec.protocol];
    const objects = await this.inputStorage.list(this.spec.input);
    if (objects.length === 0)
      throw new Error(`no input object at ${this.spec.input.bucket}/${this.spec.input.key}`);
    const splits = planSplits(objects, this.spec.splitSize ?? DEFAULT_SPLIT_SIZE);
    this.onProgress({ type: 'planned', maps: splits, reducers: this.spec.nReducers });
    if (this.spec.nReducers > 0) await this.outputStorage.ensureBucket(this.spec.output.bucket);

    const common = {
      jobId: this.spec.jobId,
      protocol,
      workRoot: this.spec.workRoot,
      output: this.spec.output,
      outputStorage: this.outputStorage,
      nReducers: this.spec.nReducers,
    };
    let outcome = await this.runAll('mapper', splits.length, (task, attempt, signal, hooks) =>
      runMapAttempt({
        ...common,
        ...hooks,
        taskId: task.taskId,
        attempt,
        signal,
        programPath: this.spec.mapperPath,
        mapIndex: task.index,
        split: splits[task.index]!,
        input: this.spec.input,
        inputStorage: this.inputStorage,
      }),
    );
    if (outcome.state !== 'succeeded' || this.spec.nReducers === 0) return this.commit(outcome);
    outcome = await this.runAll('reducer', this.spec.nReducers, (task, attempt, signal, hooks) =>
      runReduceAttempt({
        ...common,
        ...hooks,
        taskId: task.taskId,
        attempt,
        signal,
        programPath: this.spec.reducerPath!,
        reducerIndex: task.index,
        nMaps: splits.length,
      }),
    );
    return this.commit(outcome);
  }

  private async commit(outcome: MapReduceOutcome): Promise<MapReduceOutcome> {
    if (outcome.state !== 'succeeded') return outcome;
    const protocol = PROGRAM_PROTOCOLS[this.spec.protocol];
    if (protocol.output.successMarker) {
      const base =
        this.spec.output.key === '' || this.spec.output.key.endsWith('/')
          ? this.spec.output.key
          : `${this.spec.output.key}/`;
      await this.outputStorage.write(this.spec.output.bucket, `${base}_SUCCESS`, '');
    }
    return outcome;
  }

  private async runAll(
    kind: TaskKind,
    count: number,
    attemptOf: (
      task: PendingTask,
      attempt: number,
      signal: AbortSignal,
      hooks: { log(stream: 'stdout' | 'stderr', line: string): void; progress(): void },
    ) => Promise<void>,
  ): Promise<MapReduceOutcome> {
    const queue: PendingTask[] = Array.from({ length: count }, (_, index) => ({
      taskId: taskIdOf(this.spec.jobId, kind, index),
      kind,
      index,
      attempts: 0,
    }));
    const slots = Math.max(1, this.spec.slots);
    const worker = async (): Promise<void> => {
      for (let task = queue.shift(); task; task = queue.shift()) {
        if (this.stopping.signal.aborted || this.failure !== undefined) return;
        const ok = await this.attempt(task, attemptOf);
        if (!ok && this.failure === undefined && !this.stopping.signal.aborted) queue.push(task);
      }
    };
    // A retried task goes to the back of the queue: while others run, a free worker takes it.
    await Promise.all(Array.from({ length: Math.min(slots, count) }, () => worker()));
    if (this.stopping.signal.aborted)
      return { state: 'stopped', reason: String(this.stopping.signal.reason) };
    if (this.failure !== undefined) return { state: 'failed', error: this.failure };
    return { state: 'succeeded' };
  }

  // One attempt: true when it succeeded.
  private async attempt(
    task: PendingTask,
    attemptOf: Parameters<MapReduceRun['runAll']>[2],
  ): Promise<boolean> {
    const attempt = ++task.attempts;
    const control = new AbortController();
    this.running.set(task.taskId, control);
    const timeoutMs = this.spec.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const idle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => control.abort(new ProgramFailure(`no output within the task timeout (${timeoutMs} ms)`)),
        timeoutMs,
      );
    };
    let lastProgress = 0;
    const progress = (): void => {
      // Re-arming a timer per record would cost more than the record: at most every 100 ms.
      const now = Date.now();
      if (now - lastProgress < 100) return;
      lastProgress = now;
      idle();
    };
    idle();
    this.onProgress({ type: 'task-started', taskId: task.taskId, kind: task.kind, attempt });
    try {
      await attemptOf(task, attempt, control.signal, {
        log: (stream, line) =>
          this.onProgress({ type: 'task-log', taskId: task.taskId, attempt, stream, line }),
        progress,
      });
      this.onProgress({ type: 'task-succeeded', taskId: task.taskId, attempt });
      return true;
    } catch (e) {
      if (
        this.stopping.signal.aborted ||
        (this.failure !== undefined && !(control.signal.reason instanceof ProgramFailure))
      ) {
        this.onProgress({ type: 'task-stopped', taskId: task.taskId, attempt });
        return false;
      }
      const cause = control.signal.reason instanceof ProgramFailure ? control.signal.reason : e;
      const error = cause instanceof Error ? cause.message : String(cause);
      const retried = attempt < TASK_MAX_ATTEMPTS;
      this.onProgress({ type: 'task-failed', taskId: task.taskId, attempt, error, retried });
      if (!retried) {
        this.failure = `task ${task.taskId} failed ${attempt} times; the last time: ${error}`;
        for (const other of this.running.values())
          if (other !== control) other.abort('another task of the job failed');
      }
      return false;
    } finally {
      clearTimeout(timer);
      this.running.delete(task.taskId);
    }
  }
}
