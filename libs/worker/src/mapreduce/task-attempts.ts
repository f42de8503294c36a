import pLimit from 'p-limit';
import { MAPREDUCE_TASK_MAX_ATTEMPTS } from '@spindle/contracts';
import type { MapReduceProtocol } from '@spindle/contracts';
import type { ObjectStorage, StorageLocation } from '@spindle/platform';
import type { HostConfinement } from '../sandbox/confinement';
import { PROGRAM_PROTOCOLS } from './program-protocols';
import { ProgramFailure } from './program-protocol';
import type { InputSplit } from './splits';
import { runMapAttempt, runReduceAttempt } from './task-runs';
import type { MapReduceProgress, TaskKind } from './mapreduce-run';

// One attempt of one task, as a coordinator asks for it.
export interface AttemptOrder {
  readonly taskId: string;
  readonly kind: TaskKind;
  readonly index: number;
  readonly attempt: number;
}

export type AttemptOutcome =
  | { readonly state: 'succeeded' }
  | { readonly state: 'failed'; readonly error: string }
  | { readonly state: 'stopped' };

// Where a coordinator's attempts run: in its own process (AttemptRunner), or on whichever host the
// scheduler places each on (the worker's PlacedAttempts). An aborted signal stops the attempt.
export interface TaskAttempts {
  readonly capacity: number; // attempts the coordinator hands over at once
  run(order: AttemptOrder, signal: AbortSignal): Promise<AttemptOutcome>;
}

// What a host needs to run any attempt of a job.
export interface TaskJob {
  readonly jobId: string;
  readonly protocol: MapReduceProtocol;
  readonly mapperPath: string;
  readonly reducerPath: string | null;
  readonly input: StorageLocation;
  readonly inputStorage: ObjectStorage;
  readonly output: StorageLocation;
  readonly outputStorage: ObjectStorage;
  readonly nReducers: number;
  readonly splits: readonly InputSplit[];
  readonly taskTimeoutMs: number; // without any sign of life from the program
  readonly workRoot: string;
  readonly confinement: HostConfinement | null; // the worker agent's, for the programs (TaskJail)
}

// A host's slots: at most `size` attempts at once, first come first served (one Slots is shared
// by every job's attempts on the host).
export class Slots {
  readonly run: pLimit.Limit;

  constructor(readonly size: number) {
    this.run = pLimit(Math.max(1, size));
  }
}

// Runs attempts as processes of this host, in its slots: the program's output lines, its start and
// its end come out as MapReduceProgress; an attempt without a sign of life for the job's task
// timeout (neither input read nor output or stderr written) fails.
export class AttemptRunner implements TaskAttempts {
  constructor(
    private readonly job: TaskJob,
    private readonly slots: Slots,
    private readonly onProgress: (progress: MapReduceProgress) => void,
  ) {}

  get capacity(): number {
    return this.slots.size;
  }

  run(order: AttemptOrder, signal: AbortSignal): Promise<AttemptOutcome> {
    return this.slots.run(async () => (signal.aborted ? { state: 'stopped' } : this.attempt(order, signal)));
  }

  private async attempt(order: AttemptOrder, stop: AbortSignal): Promise<AttemptOutcome> {
    const { taskId, kind, attempt } = order;
    const control = new AbortController();
    const onStop = (): void => control.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    const timeoutMs = this.job.taskTimeoutMs;
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
    this.onProgress({ type: 'task-started', taskId, kind, attempt });
    try {
      await this.attemptOf(order, control.signal, {
        log: (stream, line) => this.onProgress({ type: 'task-log', taskId, attempt, stream, line }),
        progress,
      });
      this.onProgress({ type: 'task-succeeded', taskId, attempt });
      return { state: 'succeeded' };
    } catch (e) {
      if (stop.aborted && !(control.signal.reason instanceof ProgramFailure)) {
        this.onProgress({ type: 'task-stopped', taskId, attempt });
        return { state: 'stopped' };
      }
      const cause = control.signal.reason instanceof ProgramFailure ? control.signal.reason : e;
      const error = cause instanceof Error ? cause.message : String(cause);
      const retried = attempt < MAPREDUCE_TASK_MAX_ATTEMPTS;
      this.onProgress({ type: 'task-failed', taskId, attempt, error, retried });
      return { state: 'failed', error };
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
  }

  private attemptOf(
    order: AttemptOrder,
    signal: AbortSignal,
    hooks: { log(stream: 'stdout' | 'stderr', line: string): void; progress(): void },
  ): Promise<void> {
    const job = this.job;
    const common = {
      ...hooks,
      jobId: job.jobId,
      taskId: order.taskId,
      attempt: order.attempt,
      signal,
      protocol: PROGRAM_PROTOCOLS[job.protocol],
      workRoot: job.workRoot,
      confinement: job.confinement,
      output: job.output,
      outputStorage: job.outputStorage,
      nReducers: job.nReducers,
    };
    if (order.kind === 'mapper') {
      const split = job.splits[order.index];
      if (!split) throw new Error(`no split ${order.index} in job ${job.jobId}`);
      return runMapAttempt({
        ...common,
        programPath: job.mapperPath,
        mapIndex: order.index,
        split,
        input: job.input,
        inputStorage: job.inputStorage,
      });
    }
    if (job.reducerPath === null) throw new Error(`job ${job.jobId} has no reducer`);
    return runReduceAttempt({
      ...common,
      programPath: job.reducerPath,
      reducerIndex: order.index,
      nMaps: job.splits.length,
    });
  }
}
