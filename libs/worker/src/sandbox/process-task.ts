import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Jail } from './confinement';
import { LineSplitter } from './line-splitter';
import { outOfMemoryError } from './cgroups';
import { killGroup, timerFrom } from './types';
import type { RunningTask, TaskOutput, TaskResult, TaskSpec } from './types';

const STDERR_TAIL = 20;

// exec and jvm: every task is a process of its own, in its own process group, confined by its
// worker's jail and started by the host's spawner (Spawner). Arguments go in as JSON (exec: on stdin; jvm: as the single argument of main,
// through a java @argument file, so that they never show on a command line); the last non-empty
// stdout line is the result, as JSON when it parses, else as text. A result line longer than an output
// line may be (MAX_LINE_BYTES, 64 KiB) fails the task, saying so: its pieces are in the log, but a cut
// line read as the result would be a wrong answer (a larger result: write it to a file).
export async function runProcessTask(
  spec: TaskSpec,
  output: TaskOutput,
  maxLineBytes: number,
  jail: Jail,
): Promise<RunningTask> {
  // spec.workDir exists, its user's alone (WorkerSandbox.run).
  const argsJson = JSON.stringify(spec.args);
  let program: string;
  let programArgv: string[];
  if (spec.runtime === 'jvm') {
    const argFile = join(spec.workDir, '.spindle-java-args');
    // The program's jar first, then its libraries: one class path.
    const classPath = [spec.programPath, ...(spec.libraryPaths ?? [])].join(delimiter);
    // Small files and modes, for every task: synchronous calls (privateDirectory, in
    // confinement.ts, says why).
    writeFileSync(argFile, javaArgFile(['-cp', classPath, spec.entrypoint, argsJson]), { mode: 0o600 });
    if (jail.user) chownSync(argFile, jail.user.uid, jail.user.gid);
    program = 'java';
    programArgv = [`@${argFile}`];
  } else {
    // The cached artifact is read-only to jobs (0555); this only matters for a program given by path.
    try {
      chmodSync(spec.programPath, 0o555);
    } catch {
      // Not ours to change (another user's file given by path): it runs as it is.
    }
    program = spec.programPath;
    programArgv = [];
  }
  const cgroup = jail.cgroupFor(`task-${spec.jobId}`);
  const { command, argv, release } = jail.command(program, programArgv, cgroup, [spec.workDir]);
  let pid = -1;
  let lastStdout: string | null = null;
  let lastStdoutCut = false;
  const stderrTail: string[] = [];
  const stdout = new LineSplitter((text, whole) => {
    if (text.trim() !== '') {
      lastStdout = text;
      lastStdoutCut = !whole;
    }
    output.line('stdout', text, new Date());
  }, maxLineBytes);
  const stderr = new LineSplitter((text) => {
    stderrTail.push(text);
    if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    output.line('stderr', text, new Date());
  }, maxLineBytes);

  let stopped: { outcome: 'cancelled' | 'timed_out'; error: string } | undefined;
  const stop = (outcome: 'cancelled' | 'timed_out', error: string): void => {
    if (stopped) return;
    stopped = { outcome, error };
    if (pid > 0) killGroup(pid); // not started yet: ended as soon as it is (spawned)
  };
  // performTimeout counts from the moment the process exists.
  let timer: { clear(): void } | undefined;
  let began!: (at: Date | null) => void;
  const started = new Promise<Date | null>((r) => (began = r));
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  const done = new Promise<TaskResult>((resolve) => {
    // Started by the host's spawner, not forked from the agent's large process: the job's own
    // process, in a session of its own (detached), its variables its own.
    jail.spawner.spawn(
      {
        command,
        argv,
        cwd: spec.workDir,
        env: jail.env(spec.env, spec.workDir),
        input: spec.runtime === 'exec' ? argsJson : '',
      },
      {
        spawned: (its) => {
          pid = its;
          const now = new Date();
          began(now);
          if (stopped) return killGroup(pid);
          if (spec.performTimeoutMs === null) return;
          const limit = spec.performTimeoutMs;
          timer = timerFrom(now, limit, () =>
            stop('timed_out', `not finished within its performTimeout (${limit} ms)`),
          );
        },
        output: (stream, chunk) => (stream === 'stdout' ? stdout : stderr).push(chunk),
        // The task is its process: when that ends, so does whatever it left behind (a daemon, a
        // child still holding its stdout, which would keep the output open and the task from
        // ending): all of its cgroup, or without one its process group.
        exit: (code, signal) => {
          exitCode = code;
          exitSignal = signal;
          release();
          if (cgroup) void cgroup.killAll();
          else if (pid > 0) killGroup(pid);
        },
        close: () => {
          const [code, signal] = [exitCode, exitSignal];
          timer?.clear();
          began(null); // no-op once it began
          stdout.end();
          stderr.end();
          const outOfMemory = code !== 0 && (cgroup?.outOfMemory() ?? false);
          void cgroup?.remove();
          if (stopped) return resolve(stopped);
          if (outOfMemory) return resolve({ outcome: 'failed', error: outOfMemoryError(cgroup!.limits) });
          if (code === 0 && lastStdoutCut)
            return resolve({
              outcome: 'failed',
              error: `the result (the last line of stdout) is longer than ${maxLineBytes} bytes, the most an output line may hold; it is in the job's log, cut into lines`,
            });
          if (code === 0) return resolve({ outcome: 'succeeded', result: parseResult(lastStdout) });
          const how = signal
            ? `killed by ${signal}`
            : code === null
              ? "its host's spawner ended while it ran"
              : `exit code ${code}`;
          resolve({ outcome: 'failed', error: [how, ...stderrTail].join('\n') });
        },
        // Spawn failures (no such file) come before a pid exists.
        failed: (error) => {
          release();
          timer?.clear();
          began(null);
          void cgroup?.remove();
          resolve({ outcome: 'failed', error: `could not start ${command}: ${error}` });
        },
      },
    );
  });
  // Its pid once it has one: read when its start is reported (after `started`).
  return {
    get pid() {
      return pid;
    },
    started,
    done,
    cancel: (reason = 'cancelled') => stop('cancelled', reason),
  };
}
// java's @file syntax: one argument per line, each double-quoted with \\ and \" escaped
// (inside quotes java reads \\n as a newline, so newlines are escaped too).
export function javaArgFile(args: readonly string[]): string {
  const quote = (a: string): string =>
    `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  return `${args.map(quote).join('\n')}\n`;
}

function parseResult(line: string | null): unknown {
  if (line === null) return null;
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}
