import { spawn } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { LineSplitter } from './line-splitter';
import { baseEnv, killGroup, timerFrom } from './types';
import type { RunningTask, TaskOutput, TaskResult, TaskSpec } from './types';

const STDERR_TAIL = 20;

// exec and jvm: every task is a process of its own, in its own process group. Arguments go in as
// JSON (exec: on stdin; jvm: as the single argument of main); the last non-empty stdout line is
// the result, as JSON when it parses, else as text.
export async function runProcessTask(
  spec: TaskSpec,
  output: TaskOutput,
  maxLineBytes: number,
): Promise<RunningTask> {
  await mkdir(spec.workDir, { recursive: true });
  const argsJson = JSON.stringify(spec.args);
  let command: string;
  let argv: string[];
  if (spec.runtime === 'jvm') {
    command = 'java';
    argv = ['-cp', spec.programPath, spec.entrypoint, argsJson];
  } else {
    await chmod(spec.programPath, 0o755).catch(() => undefined);
    command = spec.programPath;
    argv = [];
  }
  const child = spawn(command, argv, {
    cwd: spec.workDir,
    env: baseEnv(spec.env), // a process of its own: the job's variables are the process's
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let lastStdout: string | null = null;
  const stderrTail: string[] = [];
  const stdout = new LineSplitter((text) => {
    if (text.trim() !== '') lastStdout = text;
    output.line('stdout', text, new Date());
  }, maxLineBytes);
  const stderr = new LineSplitter((text) => {
    stderrTail.push(text);
    if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    output.line('stderr', text, new Date());
  }, maxLineBytes);
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  child.stdin.on('error', () => undefined); // a program that never reads its input
  child.stdin.end(spec.runtime === 'exec' ? argsJson : '');

  let stopped: { outcome: 'cancelled' | 'timed_out'; error: string } | undefined;
  const stop = (outcome: 'cancelled' | 'timed_out', error: string): void => {
    if (stopped) return;
    stopped = { outcome, error };
    if (child.pid) killGroup(child.pid);
  };
  // performTimeout counts from the moment the process exists.
  let timer: { clear(): void } | undefined;
  let began!: (at: Date | null) => void;
  const started = new Promise<Date | null>((r) => (began = r));
  child.on('spawn', () => {
    const at = new Date();
    began(at);
    if (spec.performTimeoutMs === null || stopped) return;
    const limit = spec.performTimeoutMs;
    timer = timerFrom(at, limit, () =>
      stop('timed_out', `not finished within its performTimeout (${limit} ms)`),
    );
  });

  const done = new Promise<TaskResult>((resolve) => {
    child.on('error', (e) => {
      timer?.clear();
      began(null);
      resolve({ outcome: 'failed', error: `could not start ${command}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      timer?.clear();
      began(null); // no-op once it began
      stdout.end();
      stderr.end();
      if (stopped) return resolve(stopped);
      if (code === 0) return resolve({ outcome: 'succeeded', result: parseResult(lastStdout) });
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ outcome: 'failed', error: [how, ...stderrTail].join('\n') });
    });
  });
  // Spawn failures (no such file) surface as 'error' before a pid exists.
  return { pid: child.pid ?? -1, started, done, cancel: (reason = 'cancelled') => stop('cancelled', reason) };
}

function parseResult(line: string | null): unknown {
  if (line === null) return null;
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}
