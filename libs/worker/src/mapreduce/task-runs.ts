import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStorage, StorageLocation } from '@spindle/platform';
import { TaskJail } from '../sandbox/task-jail';
import type { HostConfinement } from '../sandbox/confinement';
import { partitionOf } from './partition';
import type { KeyValue, ProgramProtocol, ProgramRun } from './program-protocol';
import { Partition, checkPair, encodeSpill, mergeSorted, readSpill, spillKey } from './shuffle';
import { readSplitLines } from './split-reader';
import type { InputSplit } from './splits';

// What a map or reduce task attempt needs, whichever host runs it.
export interface TaskAttempt {
  readonly jobId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly protocol: ProgramProtocol;
  readonly programPath: string;
  readonly workRoot: string; // the attempt's work dir is made under it and removed after
  readonly confinement: HostConfinement | null; // the worker agent's (null: none, TaskJail)
  readonly output: StorageLocation;
  readonly outputStorage: ObjectStorage;
  readonly nReducers: number;
  readonly signal: AbortSignal;
  log(stream: 'stdout' | 'stderr', line: string): void;
  progress(): void;
}

export interface MapAttempt extends TaskAttempt {
  readonly mapIndex: number;
  readonly split: InputSplit;
  readonly input: StorageLocation;
  readonly inputStorage: ObjectStorage;
}

export interface ReduceAttempt extends TaskAttempt {
  readonly reducerIndex: number;
  readonly nMaps: number;
}

async function inWorkDir<T>(attempt: TaskAttempt, body: (run: ProgramRun) => Promise<T>): Promise<T> {
  const workDir = join(attempt.workRoot, `${attempt.taskId}.${attempt.attempt}`);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  await chmod(attempt.programPath, 0o755).catch(() => undefined);
  const jail = await TaskJail.open(attempt.confinement, `${attempt.taskId}.${attempt.attempt}`, workDir);
  try {
    return await body({
      jobId: attempt.jobId,
      taskId: attempt.taskId,
      attempt: attempt.attempt,
      programPath: attempt.programPath,
      workDir,
      env: {
        SPINDLE_JOB_ID: attempt.jobId,
        SPINDLE_TASK_ID: attempt.taskId,
        SPINDLE_TASK_ATTEMPT: String(attempt.attempt),
        mapreduce_task_id: attempt.taskId, // Hadoop Streaming's name for it
      },
      jail,
      signal: attempt.signal,
      log: (stream, line) => attempt.log(stream, line),
      progress: () => attempt.progress(),
    });
  } finally {
    await jail.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

// Reads the split, runs the mapper, and writes either the spills (one sorted object per reducer)
// or, in a map-only job, the final output of this split in the program's order. Nothing is
// written before the program succeeded, so a failed attempt leaves nothing behind.
export async function runMapAttempt(attempt: MapAttempt): Promise<void> {
  const mapOnly = attempt.nReducers === 0;
  const inProgramOrder: KeyValue[] = [];
  const partitions = Array.from({ length: attempt.nReducers }, () => new Partition());
  await inWorkDir(attempt, (run) =>
    attempt.protocol.map({
      ...run,
      input: readSplitLines(attempt.inputStorage, attempt.input.bucket, attempt.split, attempt.signal),
      emit: (pair) => {
        checkPair(pair);
        if (mapOnly) inProgramOrder.push(pair);
        else partitions[partitionOf(pair.key, attempt.nReducers)]!.add(pair);
      },
    }),
  );
  attempt.signal.throwIfAborted();
  if (mapOnly) {
    const target = attempt.protocol.output.objectOf(
      { jobId: attempt.jobId, output: attempt.output },
      'map',
      attempt.mapIndex,
    );
    await attempt.outputStorage.write(
      target.bucket,
      target.key,
      attempt.protocol.output.encode(inProgramOrder),
    );
    return;
  }
  await Promise.all(
    partitions.map((partition, reducer) =>
      attempt.outputStorage.write(
        attempt.output.bucket,
        spillKey(attempt.output, attempt.jobId, attempt.mapIndex, reducer),
        encodeSpill(partition.sorted()),
      ),
    ),
  );
}

// Fetches partition r of every map's spill, merges them by key and runs the reducer over them;
// its output is written once the program succeeded.
export async function runReduceAttempt(attempt: ReduceAttempt): Promise<void> {
  const spills = await Promise.all(
    Array.from({ length: attempt.nMaps }, (_, i) =>
      readSpill(
        attempt.outputStorage,
        attempt.output.bucket,
        spillKey(attempt.output, attempt.jobId, i, attempt.reducerIndex),
      ),
    ),
  );
  const merged = mergeSorted(spills);
  const output: KeyValue[] = [];
  await inWorkDir(attempt, (run) =>
    attempt.protocol.reduce({
      ...run,
      reducerIndex: attempt.reducerIndex,
      input: iterate(merged),
      emit: (pair) => void output.push(pair),
    }),
  );
  attempt.signal.throwIfAborted();
  const target = attempt.protocol.output.objectOf(
    { jobId: attempt.jobId, output: attempt.output },
    'reduce',
    attempt.reducerIndex,
  );
  await attempt.outputStorage.write(target.bucket, target.key, attempt.protocol.output.encode(output));
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}
