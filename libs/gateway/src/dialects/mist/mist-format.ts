import { MAX_DURATION_MS } from '@spindle/contracts';
import type { ContextSettings, JobSource, JobState, LogStream, Runtime } from '@spindle/contracts';
import type { ContextView, FunctionView, JobView, WorkerView } from '@spindle/read-models';

// How Spindle's model reads in Hydrosphere Mist's wire format (HTTP API v2), as its server sends it.

export const MIST_STATUSES = [
  'initialized',
  'queued',
  'started',
  'job-file-downloading',
  'cancelling',
  'finished',
  'cancelled',
  'failed',
] as const;
export type MistStatus = (typeof MIST_STATUSES)[number];

// Mist ends both timeouts in `cancelled`; a job placed on a worker whose process is starting is
// what Mist calls downloading the job file.
const STATUS_OF: Record<JobState, MistStatus> = {
  queued: 'queued',
  starting: 'job-file-downloading',
  running: 'started',
  succeeded: 'finished',
  failed: 'failed',
  cancelling: 'cancelling',
  cancelled: 'cancelled',
  timed_out: 'cancelled',
};

export function mistStatusOf(state: JobState): MistStatus {
  return STATUS_OF[state];
}

// The Spindle states a set of Mist statuses stands for (`initialized` stands for none: a Spindle
// job is queued the moment it is recorded).
export function statesFor(statuses: readonly MistStatus[]): JobState[] {
  return (Object.keys(STATUS_OF) as JobState[]).filter((s) => statuses.includes(STATUS_OF[s]));
}

// Mist's JobDetails.source. A job whose source was not recorded reads as Http, Mist's usual one.
const SOURCE_OF: Record<JobSource, string> = { http: 'Http', kafka: 'Async Kafka', mqtt: 'Async Mqtt' };

const LANG_OF: Record<Runtime, string> = {
  python: 'python',
  jvm: 'java',
  'jvm-runner': 'java',
  node: 'node',
  exec: 'exec',
};

export function runtimeForPath(path: string): Runtime {
  if (path.endsWith('.py')) return 'python';
  if (path.endsWith('.jar')) return 'jvm';
  if (/\.(c|m)?js$/.test(path)) return 'node';
  return 'exec';
}

export function functionInfo(fn: FunctionView): Record<string, unknown> {
  return {
    name: fn.name,
    lang: LANG_OF[fn.runtime],
    execute: {}, // Spindle functions declare no argument schema yet
    tags: fn.tags,
    path: fn.artifact,
    className: fn.entrypoint,
    defaultContext: fn.defaultContext,
  };
}

// JobDetails, field for field and in Mist's order; absent values are left out, times are epoch ms.
export function jobDetails(job: JobView): Record<string, unknown> {
  const details: Record<string, unknown> = {
    function: job.function,
    jobId: job.id,
    params: { filePath: job.artifact, className: job.entrypoint, arguments: job.args, action: 'execute' },
    context: job.context,
  };
  if (job.externalId !== null) details['externalId'] = job.externalId;
  details['source'] = SOURCE_OF[job.source ?? 'http'];
  if (job.startedAt) details['startTime'] = job.startedAt.getTime();
  if (job.finishedAt) details['endTime'] = job.finishedAt.getTime();
  if (job.state === 'succeeded') details['jobResult'] = job.result?.value ?? null;
  else if (job.state === 'failed') details['jobResult'] = job.error ?? 'failed';
  details['status'] = mistStatusOf(job.state);
  if (job.workerId) details['workerId'] = job.workerId;
  details['createTime'] = job.createdAt.getTime();
  return details;
}

// A job's log as Mist's log file holds it, one line per output line:
// `<LEVEL> <ISO local date-time, UTC, always with milliseconds> [<stream>] <text>\n`.
// stdout and system lines are INFO; stderr lines are WARN, not ERROR: programs write progress and
// logging there too (Python's logging does by default), and INFO and WARN have the same width.
// With every stream name six letters long, each line's prefix is PREFIX_BYTES long, so a line
// count turns a raw byte offset into an offset in this text without reading it (mistLogBytes).
export interface MistLogSource {
  readonly at: string;
  readonly stream: LogStream;
  readonly text: string;
}

const LEVEL_OF: Record<LogStream, { name: string; code: number }> = {
  stdout: { name: 'INFO', code: 2 },
  system: { name: 'INFO', code: 2 },
  stderr: { name: 'WARN', code: 3 },
};
const PREFIX_BYTES = 'INFO '.length + 'yyyy-mm-ddThh:mm:ss.sss'.length + ' [stdout] '.length;

export function mistLogLine(line: MistLogSource): string {
  const at = new Date(line.at).toISOString().replace('Z', '');
  return `${LEVEL_OF[line.stream].name} ${at} [${line.stream}] ${line.text}\n`;
}

export function mistLogLevel(stream: LogStream): number {
  return LEVEL_OF[stream].code;
}

// The byte length of the Mist log text of a log that has `lines` lines and `bytes` raw bytes (as
// the worker agent and the log collector count them: UTF-8 text plus "\n" per line).
export function mistLogBytes(lines: number, bytes: number): number {
  return bytes + lines * PREFIX_BYTES;
}

// Durations in Mist's JSON bodies: "<seconds>s" or "Inf".
export function mistDuration(ms: number | null): string {
  return ms === null ? 'Inf' : `${Math.round(ms / 1000)}s`;
}

// Past MAX_DURATION_MS (about 24.8 days) it is refused like any other bad value: "Inf" says longer.
export function parseMistBodyDuration(value: unknown): number | null | undefined {
  if (value === 'Inf') return null;
  if (typeof value !== 'string' || !/^\d{1,12}s$/.test(value)) return undefined;
  const ms = Number(value.slice(0, -1)) * 1000;
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

// Query durations, as Scala's Duration.create reads them: "10s", "10ms", "10minute", "10 minutes",
// "2h", "Inf". Returns ms, null for infinite, undefined when it is not a duration.
const SCALA_UNITS: [RegExp, number][] = [
  [/^(d|day|days)$/, 86_400_000],
  [/^(h|hour|hours)$/, 3_600_000],
  [/^(m|min|mins|minute|minutes)$/, 60_000],
  [/^(s|sec|secs|second|seconds)$/, 1_000],
  [/^(ms|milli|millis|millisecond|milliseconds)$/, 1],
  [/^(µs|micro|micros|microsecond|microseconds)$/, 0.001],
  [/^(ns|nano|nanos|nanosecond|nanoseconds)$/, 0.000_001],
];

export function parseScalaDuration(text: string): number | null | undefined {
  const value = text.trim();
  if (['Inf', 'PlusInf', '+Inf', 'Duration.Inf'].includes(value)) return null;
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-zµ]+)$/.exec(value);
  if (!match) return undefined;
  const unit = SCALA_UNITS.find(([pattern]) => pattern.test(match[2]!));
  if (!unit) return undefined;
  return Math.ceil(Number(match[1]) * unit[1]);
}

export function contextConfig(name: string, s: ContextSettings): Record<string, unknown> {
  return {
    name,
    sparkConf: Object.fromEntries(Object.entries(s.config).map(([k, v]) => [k, String(v)])),
    downtime: mistDuration(s.downtimeMs),
    maxJobs: s.maxJobs,
    precreated: s.precreated,
    runOptions: s.runOptions,
    workerMode: s.workerMode,
    streamingDuration: mistDuration(s.streamingDurationMs),
    maxConnFailures: s.maxConnFailures,
  };
}

export function contextOf(view: ContextView): Record<string, unknown> {
  return contextConfig(view.name, view.settings);
}

export function workerLink(
  worker: WorkerView,
  context: ContextView | null,
  hostname: string | null,
): Record<string, unknown> {
  const s = context?.settings;
  return {
    name: worker.id,
    address: `${hostname ?? worker.hostId}:${worker.pid ?? 0}`,
    initInfo: {
      sparkConf: s ? Object.fromEntries(Object.entries(s.config).map(([k, v]) => [k, String(v)])) : {},
      maxJobs: worker.maxJobs,
      downtime: mistDuration(s?.downtimeMs ?? null),
      streamingDuration: mistDuration(s?.streamingDurationMs ?? null),
      logService: '',
      masterAddress: '',
      masterHttpConf: '',
      maxArtifactSize: 0,
      runOptions: s?.runOptions ?? '',
    },
  };
}

// A job timeout in Mist's query: a Scala duration from 1 ms to MAX_DURATION_MS, "Inf" (null) for
// no limit. The error names the parameter and the rule, in Mist's text form.
export function parseMistTimeout(name: string, text: string): { ms: number | null } | { error: string } {
  const ms = parseScalaDuration(text);
  if (ms === undefined)
    return { error: `${name}: ${text} is not a duration (e.g. 10s, 10ms, 10minute, Inf)` };
  if (ms !== null && (ms < 1 || ms > MAX_DURATION_MS))
    return {
      error: `${name}: ${text} is out of range: from 1ms to ${MAX_DURATION_MS}ms (about 24.8 days), or Inf`,
    };
  return { ms };
}
