import { JOB_STATES, JOB_TAGS_MAX } from '@spindle/contracts';
import { WORKER_PHASES } from '@spindle/read-models';
import type { JobState, JobTags, Runtime } from '@spindle/contracts';
import type { ClusterJobRow, GroupView, JobView, WorkerPhase, WorkerView } from '@spindle/read-models';

// Ilum 1.3.0's job states. READY (an interactive job waiting for a request) and UNKNOWN never
// describe a single job; 1.5.3 adds CANCELED, which 1.3.0 clients do not know (a stop is FINISHED).
export const ILUM_JOB_STATES = [
  'SUBMITTED',
  'STARTING',
  'READY',
  'BUSY',
  'FAILED',
  'FINISHED',
  'UNKNOWN',
] as const;
export type IlumJobState = (typeof ILUM_JOB_STATES)[number];
export const ILUM_JOB_TYPES = ['SINGLE', 'INTERACTIVE', 'SHELL'] as const;
export type IlumJobType = (typeof ILUM_JOB_TYPES)[number];
export const ILUM_LANGUAGES = ['SCALA', 'PYTHON', 'NODE'] as const; // NODE is Spindle's own
export type IlumLanguage = (typeof ILUM_LANGUAGES)[number];

// Each core state is one Ilum state.
const STATE_OF: Record<JobState, IlumJobState> = {
  queued: 'SUBMITTED',
  starting: 'STARTING',
  running: 'BUSY',
  cancelling: 'BUSY', // still running until its process is stopped
  succeeded: 'FINISHED',
  cancelled: 'FINISHED', // stopped: Ilum 1.3.0 calls a stopped job FINISHED
  failed: 'FAILED',
  timed_out: 'FAILED',
};

export function ilumJobState(state: JobState): IlumJobState {
  return STATE_OF[state];
}

// The core states an Ilum state filter stands for (READY and UNKNOWN: none).
export function coreStatesOf(states: readonly IlumJobState[]): JobState[] {
  return JOB_STATES.filter((s) => states.includes(STATE_OF[s]));
}

// A group's worker is Ilum's interactive job: STARTING until its process is up, then READY when
// idle and BUSY while it runs a request; a stopped one (rescaled down, or its group stopped) is
// FINISHED.
const PHASE_STATE: Record<WorkerPhase, IlumJobState> = {
  starting: 'STARTING',
  idle: 'READY',
  busy: 'BUSY',
  stopped: 'FINISHED',
};

// The worker phases an Ilum state filter stands for (SUBMITTED, FAILED and UNKNOWN: none).
export function workerPhasesOf(states: readonly IlumJobState[]): WorkerPhase[] {
  return WORKER_PHASES.filter((p) => states.includes(PHASE_STATE[p]));
}

const LANGUAGE_OF: Partial<Record<Runtime, IlumLanguage>> = { python: 'PYTHON', jvm: 'SCALA', node: 'NODE' };
export const RUNTIME_OF: Record<IlumLanguage, Runtime> = { PYTHON: 'python', SCALA: 'jvm', NODE: 'node' };

// Ilum's jobInfo for a job of the core (one sent to a cluster).
export interface IlumJobInfo {
  jobId: string;
  groupId: string | null;
  jobName: string;
  jobType: IlumJobType;
  tags: JobTags;
  language: IlumLanguage | null;
  clusterName: string;
  appId: string | null;
  state: IlumJobState;
  error: string | null;
  submitTime: number;
  startTime: number | null;
  endTime: number | null;
}

export function ilumJobInfo(job: JobView): IlumJobInfo {
  return {
    jobId: job.id,
    groupId: null,
    jobName: job.name ?? job.function,
    jobType: 'SINGLE',
    tags: job.tags ?? {},
    language: LANGUAGE_OF[job.runtime] ?? null,
    clusterName: job.cluster ?? 'default',
    appId: job.workerId, // the worker that runs it stands where Spark's application id would
    state: ilumJobState(job.state),
    error: job.error,
    submitTime: job.createdAt.getTime(),
    startTime: job.startedAt?.getTime() ?? null,
    endTime: job.finishedAt?.getTime() ?? null,
  };
}

// Ilum's jobInfo for a group's worker (an interactive job): named and tagged as its group; the
// worker stands where Spark's application id would.
export function interactiveJobInfo(group: GroupView, worker: WorkerView, phase: WorkerPhase): IlumJobInfo {
  return {
    jobId: worker.id,
    groupId: group.id,
    jobName: group.name,
    jobType: 'INTERACTIVE',
    tags: group.tags,
    language: group.language,
    clusterName: group.clusterName,
    appId: worker.id,
    state: PHASE_STATE[phase],
    error: null,
    submitTime: worker.createdAt.getTime(),
    startTime: worker.startedAt?.getTime() ?? null,
    endTime: worker.stoppedAt?.getTime() ?? null,
  };
}

// One row of Ilum's job list: a single job or a group's worker.
export function clusterJobInfo(row: ClusterJobRow): IlumJobInfo {
  return row.kind === 'single' ? ilumJobInfo(row.job) : interactiveJobInfo(row.group, row.worker, row.phase);
}

// How many `k=v` pairs a jobConfig holds (tags: JOB_TAGS_MAX).
export const MAX_JOB_CONFIG_PAIRS = 500;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

// `k=v;k2=v2` (Ilum's tags and jobConfig): keys non-empty, the first `=` splits, empty parts skipped.
export function parsePairs(field: string, text: string | undefined, max = JOB_TAGS_MAX): Parsed<JobTags> {
  // A Map, not an object literal: a key such as `__proto__` is a key like any other (assigned to
  // an object it would set the prototype and vanish; fast-check found it).
  const pairs = new Map<string, string>();
  for (const part of (text ?? '').split(';')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    const key = at < 0 ? '' : part.slice(0, at).trim();
    if (key === '' || key.length > 128) {
      return {
        ok: false,
        message: `${field} must be key=value pairs separated by ";" (keys of 1-128 characters)`,
      };
    }
    pairs.set(key, part.slice(at + 1).trim());
  }
  if (pairs.size > max) return { ok: false, message: `${field} holds at most ${max} pairs` };
  return { ok: true, value: Object.fromEntries(pairs) };
}

// `a;b;c` (Ilum's args): the arguments in order; an empty text is none.
export function parseArgs(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  return text.split(';');
}

// What a single job runs, from its language, jobClass and the names of the files it brought:
// PYTHON `module` or `module.function` (file `module.py`, function default `main`, called as
// `main(args=[...], config={...})`); NODE `module` or `module.export` (file `module.js`, `.mjs` or
// `.cjs`, export default the default one, called with `{args, config}`); SCALA a main class in
// one of the jars sent, run as `java -cp <jars> <class> '{"args":[...],"config":{...}}'`. The
// other files sent lie beside the program as its libraries (SCALA: the other jars, on the class path).
export interface IlumProgram {
  readonly file: string;
  readonly libraries: readonly string[];
  readonly entrypoint: string;
  readonly runtime: Runtime;
}

const EXTENSIONS: Record<IlumLanguage, readonly string[]> = {
  PYTHON: ['.py'],
  NODE: ['.js', '.mjs', '.cjs'],
  SCALA: ['.jar'],
};

export function ilumProgram(
  language: IlumLanguage,
  jobClass: string | undefined,
  files: readonly string[],
): Parsed<IlumProgram> {
  const runtime = RUNTIME_OF[language];
  if (jobClass === undefined || jobClass === '') return { ok: false, message: 'jobClass is required' };
  if (language === 'SCALA') {
    const [file, ...libraries] = files.filter((f) => f.endsWith('.jar'));
    if (file === undefined) return { ok: false, message: 'jars must hold a jar for a SCALA job' };
    if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(jobClass))
      return { ok: false, message: 'jobClass must be a class name such as com.example.Main' };
    return { ok: true, value: { file, libraries, entrypoint: jobClass, runtime } };
  }
  const match = /^([A-Za-z_][\w-]*)(?:\.([A-Za-z_$][\w$]*))?$/.exec(jobClass);
  if (!match) return { ok: false, message: 'jobClass must be module or module.function' };
  const [, module, entrypoint = language === 'PYTHON' ? 'main' : ''] = match;
  const file = files.find((f) => EXTENSIONS[language].some((ext) => f === `${module}${ext}`));
  if (file === undefined) {
    const names = EXTENSIONS[language].map((ext) => `${module}${ext}`).join(' or ');
    return { ok: false, message: `jobClass names ${names}, which is not among the files sent` };
  }
  return { ok: true, value: { file, libraries: files.filter((f) => f !== file), entrypoint, runtime } };
}

// Ilum's jobResourceLog: one entry per resource of the job; a single job has one, its process.
export interface IlumJobResourceLog {
  name: string;
  type: string;
  role: string;
  state: IlumJobState;
  from: number;
  logSize: number;
  fileName: string;
  log: string[];
}

export function ilumJobLog(job: JobView, from: number, lines: readonly string[]): IlumJobResourceLog {
  return {
    name: job.workerId ?? job.id,
    type: 'process',
    role: 'driver',
    state: ilumJobState(job.state),
    from,
    logSize: lines.length,
    fileName: `${job.id}.log`,
    log: [...lines],
  };
}
