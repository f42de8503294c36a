import { MAPREDUCE_TASK_MAX_ATTEMPTS } from '@spindle/contracts';
import type { MapReduceProtocol } from '@spindle/contracts';
import { ObjectStorage } from '@spindle/platform';
import type { HostConfinement } from '../sandbox/confinement';
import type { StorageCredentials, StorageLocation } from '@spindle/platform';
import { PROGRAM_PROTOCOLS } from './program-protocols';
import { temporaryPrefix } from './shuffle';
import { DEFAULT_SPLIT_SIZE, planSplits } from './splits';
import type { InputSplit } from './splits';
import { AttemptRunner, Slots } from './task-attempts';
import type { AttemptOrder, TaskAttempts } from './task-attempts';

export const DEFAULT_TASK_TIMEOUT_MS = 10 * 60_000; // Hadoop's mapreduce.task.timeout
export const TASK_MAX_ATTEMPTS = MAPREDUCE_TASK_MAX_ATTEMPTS;

// What the coordinator needs: where the input and output are, how to split, how many reducers.
export interface MapReduceCoordinatorSpec {
  readonly jobId: string;
  readonly input: StorageLocation; // an object, or a prefix: every object under it
  readonly inputCredentials: StorageCredentials;
  readonly output: StorageLocation;
  readonly outputCredentials: StorageCredentials;
  readonly nReducers: number; // 0: map-only
  readonly splitSize?: number;
  readonly protocol: MapReduceProtocol;
}

// A job whose attempts run in this process.
export interface MapReduceJobSpec extends MapReduceCoordinatorSpec {
  readonly mapperPath: string;
  readonly reducerPath: string | null; // null when nReducers is 0
  readonly taskTimeoutMs?: number; // without any sign of life from the program
  readonly slots: number; // tasks running at once
  readonly workRoot: string;
  readonly confinement: HostConfinement | null; // the worker agent's, for the programs (TaskJail)
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

// Where the job's attempts run, once its input is split: by default in this process, `slots` at
// once (AttemptRunner); a worker host hands them to the scheduler to place on any host.
export type AttemptsOf = (splits: readonly InputSplit[]) => TaskAttempts;

export function taskIdOf(jobId: string, kind: TaskKind, index: number): string {
  return `${jobId}-${kind === 'mapper' ? 'm' : 'r'}-${index}`;
}

// One MapReduce job from start to end, its coordinator: plans the splits, runs every map task,
// then (once all of them succeeded) every reduce task, handing at most `capacity` attempts at once
// to its TaskAttempts; a failed attempt goes to the back of the queue for another, until a task
// failed TASK_MAX_ATTEMPTS times and fails the job. The output is committed last: `_SUCCESS`, and
// the shuffle's `_temporary` deleted.
export class MapReduceRun {
  private readonly stopping = new AbortController();
  private readonly running = new Set<AbortController>();
  private failure: string | undefined;
  private readonly inputStorage: ObjectStorage;
  private readonly outputStorage: ObjectStorage;

  private readonly attemptsOf: AttemptsOf;

  constructor(spec: MapReduceJobSpec, onProgress: (progress: MapReduceProgress) => void);
  constructor(
    spec: MapReduceCoordinatorSpec,
    onProgress: (progress: MapReduceProgress) => void,
    attemptsOf: AttemptsOf,
  );
  constructor(
    private readonly spec: MapReduceCoordinatorSpec,
    private readonly onProgress: (progress: MapReduceProgress) => void,
    attemptsOf?: AttemptsOf,
  ) {
    this.inputStorage = ObjectStorage.at(spec.input, spec.inputCredentials);
    this.outputStorage = ObjectStorage.at(spec.output, spec.outputCredentials);
    this.attemptsOf = attemptsOf ?? ((splits) => this.inProcess(spec as MapReduceJobSpec, splits));
  }

  private inProcess(spec: MapReduceJobSpec, splits: readonly InputSplit[]): TaskAttempts {
    return new AttemptRunner(
      {
        jobId: spec.jobId,
        protocol: spec.protocol,
        mapperPath: spec.mapperPath,
        reducerPath: spec.reducerPath,
        input: spec.input,
        inputStorage: this.inputStorage,
        output: spec.output,
        outputStorage: this.outputStorage,
        nReducers: spec.nReducers,
        splits,
        taskTimeoutMs: spec.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
        workRoot: spec.workRoot,
        confinement: spec.confinement,
      },
      new Slots(spec.slots),
      this.onProgress,
    );
  }

  // Stops every running attempt; run() then answers `stopped`.
  stop(reason: string): void {
    this.stopping.abort(reason);
    for (const attempt of this.running) attempt.abort(reason);
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
    const objects = await this.inputStorage.list(this.spec.input);
    if (objects.length === 0)
      throw new Error(`no input object at ${this.spec.input.bucket}/${this.spec.input.key}`);
    const splits = planSplits(objects, this.spec.splitSize ?? DEFAULT_SPLIT_SIZE);
    this.onProgress({ type: 'planned', maps: splits, reducers: this.spec.nReducers });
    if (this.spec.nReducers > 0) await this.outputStorage.ensureBucket(this.spec.output.bucket);
    const attempts = this.attemptsOf(splits);
    let outcome = await this.runAll(attempts, 'mapper', splits.length);
    if (outcome.state !== 'succeeded' || this.spec.nReducers === 0) return this.commit(outcome);
    outcome = await this.runAll(attempts, 'reducer', this.spec.nReducers);
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

  private async runAll(attempts: TaskAttempts, kind: TaskKind, count: number): Promise<MapReduceOutcome> {
    const queue: PendingTask[] = Array.from({ length: count }, (_, index) => ({
      taskId: taskIdOf(this.spec.jobId, kind, index),
      kind,
      index,
      attempts: 0,
    }));
    const worker = async (): Promise<void> => {
      for (let task = queue.shift(); task; task = queue.shift()) {
        if (this.stopping.signal.aborted || this.failure !== undefined) return;
        const ok = await this.attempt(attempts, task);
        if (!ok && this.failure === undefined && !this.stopping.signal.aborted) queue.push(task);
      }
    };
    // A retried task goes to the back of the queue: while others run, a free worker takes it.
    const capacity = Math.max(1, Math.min(attempts.capacity, count));
    await Promise.all(Array.from({ length: capacity }, () => worker()));
    if (this.stopping.signal.aborted)
      return { state: 'stopped', reason: String(this.stopping.signal.reason) };
    if (this.failure !== undefined) return { state: 'failed', error: this.failure };
    return { state: 'succeeded' };
  }

  // One attempt: true when it succeeded.
  private async attempt(attempts: TaskAttempts, task: PendingTask): Promise<boolean> {
    const order: AttemptOrder = { ...task, attempt: ++task.attempts };
    const control = new AbortController();
    this.running.add(control);
    try {
      const outcome = await attempts.run(order, control.signal);
      if (outcome.state === 'succeeded') return true;
      if (this.stopping.signal.aborted || this.failure !== undefined) return false;
      // Stopped while the job goes on (its host was lost or shut down): a failure like any other.
      const error = outcome.state === 'failed' ? outcome.error : 'the attempt was stopped';
      if (order.attempt >= TASK_MAX_ATTEMPTS) {
        this.failure = `task ${task.taskId} failed ${order.attempt} times; the last time: ${error}`;
        for (const other of this.running)
          if (other !== control) other.abort('another task of the job failed');
      }
      return false;
    } finally {
      this.running.delete(control);
    }
  }
}

interface PendingTask {
  readonly taskId: string;
  readonly kind: TaskKind;
  readonly index: number;
  attempts: number;
}
