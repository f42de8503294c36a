import type { LogStream, Runtime } from '@spindle/contracts';

export interface TaskSpec {
  readonly jobId: string;
  readonly runtime: Runtime;
  readonly programPath: string; // the artifact file, under its own name (runtimes may need the extension)
  readonly entrypoint: string;
  readonly args: Record<string, unknown>;
  readonly workDir: string;
  readonly env: Readonly<Record<string, string>>;
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
  readonly done: Promise<TaskResult>; // never rejects
  cancel(reason?: string): void; // idempotent
}

// The environment every task starts from: nothing of the agent's own (its secrets stay there).
export function baseEnv(spec: TaskSpec): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'JAVA_HOME', 'PYTHONPATH'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, ...spec.env, SPINDLE_JOB_ID: spec.jobId };
}

// SIGTERM to the whole process group, SIGKILL if it is still there after `graceMs`.
export function killGroup(pid: number, graceMs = 2_000): void {
  const signal = (s: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, s);
      return true;
    } catch {
      try {
        process.kill(pid, s);
        return true;
      } catch {
        return false;
      }
    }
  };
  if (!signal('SIGTERM')) return;
  setTimeout(() => signal('SIGKILL'), graceMs).unref();
}
