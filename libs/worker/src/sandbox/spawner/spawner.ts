import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge, register } from 'prom-client';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { BoundedLines } from '../runner-channel';

// The most one message on the spawner's channel may hold, either way: a spawn request (a command
// line, the job's environment and its arguments as input) or a piece of output (256 KiB, base64).
export const SPAWNER_MESSAGE_MAX_BYTES = 8 * 1024 * 1024;

const SPAWNER_FILE = join(__dirname, 'spawner-process.py');

// Everything the spawner may say, checked before it is believed (as a runner's messages are): one
// that does not parse is dropped, one past the bound kills the spawner. It runs as the agent's
// user, but it is trusted no more than a job: a message can neither crash the agent nor fill its
// memory.
const spawnerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('spawned'), id: z.string(), pid: z.number().int().positive() }),
  z.object({ type: z.literal('failed'), id: z.string(), error: z.string() }),
  z.object({
    type: z.literal('output'),
    id: z.string(),
    stream: z.enum(['stdout', 'stderr']),
    data: z.string(),
  }),
  z.object({
    type: z.literal('exit'),
    id: z.string(),
    code: z.number().int().nullable(),
    signal: z.string().nullable(),
  }),
  z.object({ type: z.literal('close'), id: z.string() }),
]);
type SpawnerMessage = z.infer<typeof spawnerMessage>;

export interface SpawnRequest {
  readonly command: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly input: string; // written to its stdin, which then closes
}

// What a process started through the spawner tells, as a ChildProcess would: `spawned`, `output`,
// `exit` (it ended), `close` (its output closed too: what it started may hold that open after
// its exit, until the caller ends it), each once; or `failed` alone when it could not start. Code
// and signal null: the spawner died meanwhile (the process may live on: the caller ends it,
// through its cgroup or its process group), and `close` follows at once.
export interface SpawnHandlers {
  spawned(pid: number): void;
  output(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  exit(code: number | null, signal: string | null): void;
  close(): void;
  failed(error: string): void;
}

interface Spawned {
  readonly handlers: SpawnHandlers;
  spawned: boolean;
  exited: boolean;
}

// The agent's side of its spawner (spawner-process.py): the one way the agent starts a job's own
// process (exec and jvm tasks). The spawner is started at the agent's start (or at the first
// spawn) and again at the next spawn after it died; while it was gone, a process it had started
// is told `exit` with no code, and the caller ends what is left of it.
// On a host without python3 (`npm start` asks for nothing but Node) the agent starts them itself,
// as it did before there was a spawner: the same processes and confinement, only each fork is of
// the agent's large process (about 40 ms of its event loop per job, measured).
export class Spawner {
  // One per agent process: every worker and jail of the process spawns through it.
  static readonly shared = new Spawner();

  // `python`: the interpreter that runs the spawner, looked up on PATH.
  constructor(private readonly python = 'python3') {}

  private child: ChildProcess | undefined;
  // No interpreter to run the spawner: processes are forked here (spawnHere).
  private withoutInterpreter = false;

  // Whether job processes fork from the agent itself, for want of python3 (known once started).
  get forksInAgent(): boolean {
    return this.withoutInterpreter;
  }
  private channel: Duplex | undefined;
  private readonly running = new Map<string, Spawned>();
  private next = 0;

  // Its process id, or null while none runs.
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  // Started now if it is not running (the agent at start: its first job does not wait for it).
  start(): void {
    if (this.child || this.withoutInterpreter) return;
    // Its environment holds nothing of the agent's (each process gets its own, in its request).
    const child = spawn(this.python, [SPAWNER_FILE, String(SPAWNER_MESSAGE_MAX_BYTES)], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      detached: true, // a signal to the agent's group (Ctrl-C) does not take it before the agent ends its jobs
    });
    // No pid at once: the interpreter is not there (ENOENT; its 'error' event follows, ignored).
    if (child.pid === undefined) {
      child.on('error', () => undefined);
      this.withoutInterpreter = true;
      return;
    }
    const channel = child.stdio[3] as Duplex;
    this.child = child;
    this.channel = channel;
    const lines = new BoundedLines(
      SPAWNER_MESSAGE_MAX_BYTES,
      (line) => this.receive(line),
      () => child.kill('SIGKILL'),
    );
    channel.on('data', (chunk: Buffer) => lines.push(chunk));
    channel.on('error', () => undefined);
    // A process it had started may live on: its caller ends it (exit with no code); one it had
    // not started yet fails, saying why.
    const gone = (why: string): void => {
      if (this.child !== child) return;
      this.pastCpuSeconds += this.lastCpuSeconds;
      this.lastCpuSeconds = 0;
      this.child = undefined;
      this.channel = undefined;
      const lost = [...this.running.values()];
      this.running.clear();
      for (const started of lost) {
        if (!started.spawned) {
          started.handlers.failed(why);
          continue;
        }
        if (!started.exited) started.handlers.exit(null, null);
        started.handlers.close();
      }
    };
    child.on('error', (e) =>
      gone(`the spawner could not start: ${e.message} (exec and jvm jobs need python3 on the worker host)`),
    );
    child.on('exit', (code, signal) =>
      gone(`the spawner ended (${signal ?? `exit code ${code}`}) before it started it`),
    );
    // An idle spawner does not keep the agent's process alive (one running a process does:
    // referenced); the spawner ends when its channel closes.
    child.unref();
    this.referenced(false);
  }

  private referenced(yes: boolean): void {
    const channel = this.channel as (Duplex & { ref(): void; unref(): void }) | undefined;
    if (yes) channel?.ref();
    else channel?.unref();
  }

  private forget(id: string): void {
    this.running.delete(id);
    if (this.running.size === 0) this.referenced(false);
  }

  spawn(request: SpawnRequest, handlers: SpawnHandlers): void {
    this.start();
    if (this.withoutInterpreter) return spawnHere(request, handlers);
    const id = String(++this.next);
    this.running.set(id, { handlers, spawned: false, exited: false });
    if (this.running.size === 1) this.referenced(true);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.env)) if (value !== undefined) env[name] = value;
    const line = `${JSON.stringify({ type: 'spawn', id, ...request, argv: [...request.argv], env })}\n`;
    if (Buffer.byteLength(line) > SPAWNER_MESSAGE_MAX_BYTES) {
      this.forget(id);
      handlers.failed(
        `its command line, environment and arguments take more than ${SPAWNER_MESSAGE_MAX_BYTES} bytes`,
      );
      return;
    }
    this.channel!.write(line);
  }

  // The CPU its spawners have used so far (the one running and those gone before it), in seconds:
  // work done for the agent, which the agent's own process CPU no longer shows.
  cpuSeconds(): number {
    const pid = this.pid;
    if (pid === null) return this.pastCpuSeconds;
    try {
      // /proc/<pid>/stat: utime and stime, the 14th and 15th fields, in clock ticks (100 a second);
      // after "pid (comm) ", whose comm may hold spaces, the 3rd field comes first.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ');
      this.lastCpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile: its last reading stands
    }
    return this.pastCpuSeconds + this.lastCpuSeconds;
  }

  private pastCpuSeconds = 0;
  private lastCpuSeconds = 0;

  // Ends the spawner (its processes are their callers' to end: each is told `exit`).
  stop(): void {
    this.child?.kill('SIGKILL');
  }

  private receive(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    const parsed = spawnerMessage.safeParse(raw);
    if (parsed.success) this.handle(parsed.data);
  }

  private handle(message: SpawnerMessage): void {
    const started = this.running.get(message.id);
    if (!started) return;
    const { handlers } = started;
    switch (message.type) {
      case 'spawned':
        started.spawned = true;
        return handlers.spawned(message.pid);
      case 'output':
        return handlers.output(message.stream, Buffer.from(message.data, 'base64'));
      case 'exit':
        if (started.exited) return;
        started.exited = true;
        return handlers.exit(message.code, message.signal);
      case 'close':
        this.forget(message.id);
        if (!started.exited) handlers.exit(null, null);
        return handlers.close();
      case 'failed':
        this.forget(message.id);
        return handlers.failed(message.error);
    }
  }
}

// A process forked from the agent's own, telling what the spawner would, in the same order.
function spawnHere(request: SpawnRequest, handlers: SpawnHandlers): void {
  const child = spawn(request.command, [...request.argv], {
    cwd: request.cwd,
    env: request.env,
    detached: true, // a session of its own, as the spawner gives it
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let spawned = false;
  let failed = false;
  child.on('spawn', () => {
    spawned = true;
    handlers.spawned(child.pid!);
  });
  child.on('error', (e) => {
    // After its start an error is a failed kill: its exit and close still come.
    if (spawned || failed) return;
    failed = true;
    handlers.failed(e.message);
  });
  child.stdout.on('data', (chunk: Buffer) => handlers.output('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => handlers.output('stderr', chunk));
  child.stdin.on('error', () => undefined); // a program that never reads its input
  child.stdin.end(request.input);
  child.on('exit', (code, signal) => {
    if (spawned) handlers.exit(code, signal);
  });
  child.on('close', () => {
    if (spawned) handlers.close();
  });
}

// Beside each process's own CPU on GET /metrics (bench/lib/costs.ts adds them up): once per
// process, whichever module loads first.
if (!register.getSingleMetric('spindle_spawner_cpu_seconds_total'))
  new Gauge({
    name: 'spindle_spawner_cpu_seconds_total',
    help: "CPU time of this process's job spawner (sandbox/spawner), which the process's own CPU does not count",
    collect() {
      this.set(Spawner.shared.cpuSeconds());
    },
  });
