import type { MapReduceProtocol } from '@spindle/contracts';
import type { StorageLocation } from '@spindle/platform';
import type { TaskJail } from '../sandbox/task-jail';

// The seam between the MapReduce engine and the programs users upload. The engine reads the
// input split, partitions, sorts, shuffles, retries and writes objects; a protocol only turns
// records into key/value pairs by running the user's program its own way. One protocol per file in
// ./protocols, registered in PROGRAM_PROTOCOLS (program-protocols.ts).
//
// Keys and values are strings to the engine: it partitions by a stable hash of the key's UTF-8
// bytes and sorts by key. A protocol whose programs speak JSON (apollo) carries JSON text in them.

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

// A key with every value it was emitted with, in the order they were emitted (across map tasks:
// map order).
export interface KeyValues {
  readonly key: string;
  readonly values: readonly string[];
}

// One line of the map task's input split: 1-based within the split, without its line break
// (`\n` or `\r\n`).
export interface InputRecord {
  readonly lineNumber: number;
  readonly line: string;
}

export interface ProgramRun {
  readonly jobId: string;
  readonly taskId: string; // <jobId>-m-<i> or <jobId>-r-<i>
  readonly attempt: number; // 1 for the first
  readonly programPath: string; // the uploaded executable, with its exec bit set
  readonly workDir: string; // this attempt's own, empty, removed after it
  // Variables for the program's processes (the engine's own are not in it: jail.env(run.env)).
  readonly env: Readonly<Record<string, string>>;
  // Every process of the program starts through it (jail.command): the job sandbox's chain, as
  // the attempt's job user, in its cgroup and read-only view.
  readonly jail: TaskJail;
  // Aborted when the attempt must end (job stopped, no output within the task timeout, host
  // stopping): kill every process the attempt started, then reject.
  readonly signal: AbortSignal;
  // Each line the program writes on stderr (and stdout lines that are not output) for the log
  // collector.
  log(stream: 'stdout' | 'stderr', line: string): void;
  // Call whenever the program shows life (reads input, writes output): the task timeout counts
  // from the last call.
  progress(): void;
}

export interface MapRun extends ProgramRun {
  readonly input: AsyncIterable<InputRecord>;
  // Await it: it applies backpressure while the engine spills.
  emit(pair: KeyValue): void | Promise<void>;
}

export interface ReduceRun extends ProgramRun {
  readonly reducerIndex: number;
  // This reducer's partition of every map task's output, merged: one group per key, sorted by key
  // (UTF-16 code unit order). Grouped once by the engine, handed over per key rather than per
  // value (a word count has millions of values for thousands of keys).
  readonly input: AsyncIterable<KeyValues>;
  emit(pair: KeyValue): void | Promise<void>;
}

// Where the final output goes and how it is written.
export interface OutputTarget {
  readonly bucket: string;
  readonly key: string;
}

export interface OutputPlan {
  // The object a reduce task (or, in a map-only job, a map task) writes its pairs to.
  objectOf(
    job: { jobId: string; output: StorageLocation },
    kind: 'map' | 'reduce',
    index: number,
  ): OutputTarget;
  encode(pairs: readonly KeyValue[]): Buffer;
  // An empty `_SUCCESS` object under the output location once every task succeeded.
  readonly successMarker: boolean;
}

// A program failure: non-zero exit, bad output. The message goes into the task's failure record
// and its log; the engine retries the task (up to 3 more attempts).
export class ProgramFailure extends Error {}

export interface ProgramProtocol {
  readonly name: MapReduceProtocol;
  // Resolve once the program consumed all input and every pair was emitted; reject with a
  // ProgramFailure, or any error once run.signal aborted.
  map(run: MapRun): Promise<void>;
  reduce(run: ReduceRun): Promise<void>;
  readonly output: OutputPlan;
}
