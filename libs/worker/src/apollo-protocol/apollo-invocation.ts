import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LineSplitter } from '../sandbox/line-splitter';
import type { TaskJail } from '../sandbox/task-jail';
import { killGroup } from '../sandbox/types';
import { OPENED_PROGRAM, privateTmp } from './private-tmp';
import { deliverDocument, listenForDocuments } from './socket-exchange';

// One run of an Apollo program: a process with its own /tmp (private-tmp.ts), its sockets served
// by the worker, its output lines passed on, and its end awaited. Apollo's programs are run once
// per input line (mapper) and once per key (reducer); this is that one run.

export interface ApolloPair {
  readonly key: unknown;
  readonly value: unknown;
}

export interface InvocationContext {
  readonly programPath: string;
  readonly workDir: string; // the task's directory: the program's cwd (the jail's)
  readonly jail: TaskJail; // every invocation starts through the job sandbox's chain
  // Where each invocation's own directory is made (it becomes the program's /tmp and is removed
  // afterwards). Short, because Unix socket paths are (at most 107 bytes).
  readonly scratchRoot: string;
  readonly env: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly output?: (stream: 'stdout' | 'stderr', text: string) => void;
}

// Linux refuses a single argument longer than this (MAX_ARG_STRLEN), so a longer line cannot be
// passed as Apollo passes it.
export const MAX_APOLLO_LINE_BYTES = 128 * 1024 - 1;
const STDERR_TAIL = 10;

export class ApolloInvocationError extends Error {}

// `program <lineNumber> <line>`; the program writes {"pairs":[{key,value}…]} to /tmp/map.sock.
export async function invokeMapper(
  context: InvocationContext,
  lineNumber: number,
  line: string,
): Promise<ApolloPair[]> {
  const what = `the mapper on line ${lineNumber}`;
  if (Buffer.byteLength(line) > MAX_APOLLO_LINE_BYTES) {
    throw new ApolloInvocationError(
      `${what}: the line is longer than ${MAX_APOLLO_LINE_BYTES} bytes, the most one program argument can hold`,
    );
  }
  return withScratch(context, async (scratch) => {
    const inbox = await listenForDocuments(socketPath(scratch, 'map.sock'));
    try {
      await run(context, scratch, [String(lineNumber), line], what);
    } catch (e) {
      inbox.close();
      throw e;
    }
    const pairs: ApolloPair[] = [];
    for (const document of await inbox.collect()) pairs.push(...parsePairs(document, what));
    return pairs;
  });
}

// `program <order>`; the program listens on /tmp/reduce-input-<order>.sock, reads
// {"key":{"key":K,"value":order},"value":[…]} and writes {"key":{…},"value":V} to /tmp/reduce.sock.
export async function invokeReducer(
  context: InvocationContext,
  order: number,
  key: unknown,
  values: readonly unknown[],
): Promise<ApolloPair> {
  const what = `the reducer on key ${JSON.stringify(key)} (order ${order})`;
  return withScratch(context, async (scratch) => {
    const inbox = await listenForDocuments(socketPath(scratch, 'reduce.sock'));
    let ended = false;
    try {
      const input = JSON.stringify({ key: { key, value: order }, value: values });
      const running = run(context, scratch, [String(order)], what).finally(() => (ended = true));
      running.catch(() => undefined); // awaited below, after the delivery
      const socket = `reduce-input-${order}.sock`;
      let delivered: boolean;
      try {
        delivered = await deliverDocument(socketPath(scratch, socket), input, () => ended);
      } catch (e) {
        await running; // the program's own failure is the better reason
        throw e;
      }
      await running;
      if (!delivered) throw new ApolloInvocationError(`${what} ended without listening on /tmp/${socket}`);
    } catch (e) {
      inbox.close();
      throw e;
    }
    const last = (await inbox.collect()).filter((d) => d.trim() !== '').pop();
    if (last === undefined) throw new ApolloInvocationError(`${what} wrote nothing to /tmp/reduce.sock`);
    return parseReduced(last, key, what);
  });
}

async function withScratch<T>(context: InvocationContext, body: (scratch: string) => Promise<T>): Promise<T> {
  await mkdir(context.workDir, { recursive: true }); // the program's cwd: spawn needs it
  await mkdir(context.scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(context.scratchRoot, 'apollo-'));
  try {
    await context.jail.prepare(scratch); // its job user's: the program makes its sockets there
    return await body(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// A longer socket path would be cut short by the system and never meet the program's.
const MAX_SOCKET_PATH_BYTES = 107;

function socketPath(scratch: string, name: string): string {
  const path = join(scratch, name);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new ApolloInvocationError(
      `the scratch directory ${scratch} is too deep for a Unix socket path (${MAX_SOCKET_PATH_BYTES} bytes at most)`,
    );
  }
  return path;
}

// The program in its task's jail with `scratch` as its /tmp: the read-only view binds it there
// in the mount namespace it makes anyway; without a view a namespace of its own does, around the
// same chain (private-tmp.ts).
function launch(
  context: InvocationContext,
  scratch: string,
  args: readonly string[],
): { command: string; argv: string[]; release: () => void } {
  const { jail } = context;
  if (jail.privateTmp) return jail.command(context.programPath, args, scratch);
  const chain = jail.command(OPENED_PROGRAM, args);
  return { ...privateTmp().command(scratch, context.programPath, chain), release: chain.release };
}

// Runs the program in its private /tmp; resolves on exit 0, rejects with the reason otherwise.
function run(
  context: InvocationContext,
  scratch: string,
  args: readonly string[],
  what: string,
): Promise<void> {
  if (context.signal?.aborted) return Promise.reject(new ApolloInvocationError(`${what}: stopped`));
  const { command, argv, release } = launch(context, scratch, args);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: context.workDir,
      env: context.jail.env(context.env),
      detached: true, // its own process group, so a stop kills whatever it started too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderrTail: string[] = [];
    const stdout = new LineSplitter((text) => context.output?.('stdout', text));
    const stderr = new LineSplitter((text) => {
      stderrTail.push(text);
      if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
      context.output?.('stderr', text);
    });
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      if (child.pid) killGroup(child.pid, 500);
    };
    context.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (e) => {
      release();
      reject(new ApolloInvocationError(`${what} could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      release();
      context.signal?.removeEventListener('abort', stop);
      stdout.end();
      stderr.end();
      if (stopped) return reject(new ApolloInvocationError(`${what}: stopped`));
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new ApolloInvocationError([`${what} ${how}`, ...stderrTail].join('\n')));
    });
  });
}

function parseJson(document: string, what: string, socket: string): unknown {
  try {
    return JSON.parse(document) as unknown;
  } catch (e) {
    const head = document.length > 200 ? `${document.slice(0, 200)}…` : document;
    throw new ApolloInvocationError(
      `${what} wrote something that is not JSON to ${socket} (${(e as Error).message}): ${head}`,
    );
  }
}

function parsePairs(document: string, what: string): ApolloPair[] {
  if (document.trim() === '') return [];
  const parsed = parseJson(document, what, '/tmp/map.sock') as { pairs?: unknown };
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.pairs)) {
    throw new ApolloInvocationError(`${what} must write {"pairs":[{"key":…,"value":…}]} to /tmp/map.sock`);
  }
  return parsed.pairs.map((pair: unknown) => {
    if (!pair || typeof pair !== 'object' || !('key' in pair)) {
      throw new ApolloInvocationError(`${what} wrote a pair without a key: ${JSON.stringify(pair)}`);
    }
    const { key, value } = pair as { key: unknown; value?: unknown };
    return { key, value: value ?? null };
  });
}

function parseReduced(document: string, key: unknown, what: string): ApolloPair {
  const parsed = parseJson(document, what, '/tmp/reduce.sock') as { value?: unknown };
  if (!parsed || typeof parsed !== 'object' || !('value' in parsed)) {
    throw new ApolloInvocationError(
      `${what} must write {"key":{"key":…,"value":<order>},"value":…} to /tmp/reduce.sock`,
    );
  }
  // The output pair's key is the key the reducer was given, whatever the program echoes back.
  return { key, value: parsed.value };
}
