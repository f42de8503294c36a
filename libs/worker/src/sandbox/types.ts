import { delimiter, join } from 'node:path';
import type { LogStream, Runtime } from '@spindle/contracts';
import { CHECKOUT_RUNTIME_FILES } from './runtime-files';

export interface TaskSpec {
  readonly jobId: string;
  readonly runtime: Runtime;
  readonly programPath: string; // the artifact file, under its own name (runtimes may need the extension)
  // The function's libraries, in its order, each under its file name in programPath's directory
  // (absent: none).
  readonly libraryPaths?: readonly string[];
  readonly entrypoint: string;
  readonly args: Record<string, unknown>;
  readonly workDir: string;
  readonly env: Readonly<Record<string, string>>; // the job's own variables (SPINDLE_JOB_ID, ...)
  readonly performTimeoutMs: number | null;
}

export interface TaskOutput {
  line(stream: LogStream, text: string, at: Date): void;
}

export type TaskResult =
  | { readonly outcome: 'succeeded'; readonly result: unknown }
  | { readonly outcome: 'failed' | 'timed_out' | 'cancelled'; readonly error: string };

export interface RunningTask {
  readonly pid: number;
  // When the task really began in its process (its performTimeout counts from here); null when it
  // ended before it ever began.
  readonly started: Promise<Date | null>; // never rejects
  readonly done: Promise<TaskResult>; // never rejects
  cancel(reason?: string): void; // idempotent
}

// The environment every process starts from: nothing of the agent's own (its secrets stay there),
// and nothing of any one job unless the process is that job's alone. `helpersDir`: where the
// helpers are that this process's user can read (RuntimeFiles).
export function baseEnv(
  own: Readonly<Record<string, string>> = {},
  helpersDir = CHECKOUT_RUNTIME_FILES.helpersDir,
): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'JAVA_HOME', 'PYTHONPATH', 'NODE_PATH'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  // Programs find Spindle's helpers by name: require('spindle-loggers'), import spindle_loggers.
  const withHelpers = (variable: string, dir: string) =>
    [join(helpersDir, dir), env[variable]].filter(Boolean).join(delimiter);
  return {
    ...env,
    NODE_PATH: withHelpers('NODE_PATH', 'node'),
    PYTHONPATH: withHelpers('PYTHONPATH', 'python'),
    ...own,
  };
}

// Calls `fire` once `ms` have passed since `from` (a moment that may lie a little in the past) by
// the wall clock that stamps start and finish, which a timer may otherwise undercut by a tick.
export function timerFrom(from: Date, ms: number, fire: () => void): { clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = from.getTime() + ms - Date.now();
    timer = left > 0 ? setTimeout(arm, left) : undefined;
    if (left <= 0) fire();
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

// SIGTERM to the whole process group, SIGKILL if it is still there after `graceMs`. Every process
// Spindle spawns leads a group of its own (`detached`), so only the group is ever signalled: a
// group id is not handed out again while any member lives, whereas a bare pid of a process that
// already exited may belong to an unrelated process by the time the SIGKILL goes out.
export function killGroup(pid: number, graceMs = 2_000): void {
  const signal = (s: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, s);
      return true;
    } catch {
      return false; // the group is gone: nothing left to stop
    }
  };
  if (!signal('SIGTERM')) return;
  setTimeout(() => signal('SIGKILL'), graceMs).unref();
}
