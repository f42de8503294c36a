'use strict';
// Spindle's node runner: one long-lived process that runs a worker's node tasks, several at once.
// Protocol: JSON lines both ways on fd 3 (a socket the agent made), each at most the bytes given as
// the first argument (the agent kills a runner that sends more: runner-channel.ts):
//   in:  {type:'run', taskId, file, libraries, entrypoint, args, workDir, env} | {type:'cancel', taskId} | {type:'ping', id}
//        (`libraries` lie beside `file`, so the program imports them by a relative path: nothing to do here)
//   out: {type:'started', taskId, at} | {type:'log', taskId, stream, text}
//        | {type:'result', taskId, ok, value?, error?} | {type:'pong', id}
// So this runner never sends more itself: output lines go in pieces, and a result too large to
// send fails its task saying so.
// Output written inside a task (console.*, process.stdout/stderr.write, also after awaits and
// timers) is attributed to it through AsyncLocalStorage and sent line by line; so are its
// environment variables (process.env reads the task's own SPINDLE_* values first).
const { AsyncLocalStorage } = require('node:async_hooks');
const { Socket } = require('node:net');
const { createInterface } = require('node:readline');
const { pathToFileURL } = require('node:url');

const current = new AsyncLocalStorage();
const partial = new Map(); // `${taskId}:${stream}` -> unfinished line
const running = new Map(); // taskId -> {workDir, env, controller}, oldest first
const home = process.cwd();
const MESSAGE_MAX_BYTES = Number(process.argv[2]);
// Output lines longer than this (in characters) are sent in pieces; the agent cuts lines at 64 KiB
// anyway. Well within a message: a character is at most 6 bytes of JSON.
const PIECE = 1024 * 1024;
const channel = new Socket({ fd: 3, readable: true, writable: true });
const send = (message) => channel.write(`${JSON.stringify(message)}\n`);

function emit(taskId, stream, chunk) {
  const key = `${taskId}:${stream}`;
  const text = (partial.get(key) || '') + chunk;
  const lines = text.split('\n');
  let rest = lines.pop();
  for (const line of lines) sendLine(taskId, stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  while (rest.length > PIECE) {
    send({ type: 'log', taskId, stream, text: rest.slice(0, PIECE) });
    rest = rest.slice(PIECE);
  }
  partial.set(key, rest);
}

function sendLine(taskId, stream, line) {
  for (let at = 0; at < line.length || at === 0; at += PIECE)
    send({ type: 'log', taskId, stream, text: line.slice(at, at + PIECE) });
}

function flush(taskId) {
  for (const stream of ['stdout', 'stderr']) {
    const key = `${taskId}:${stream}`;
    const rest = partial.get(key);
    if (rest) sendLine(taskId, stream, rest);
    partial.delete(key);
  }
}

for (const stream of ['stdout', 'stderr']) {
  const original = process[stream].write.bind(process[stream]);
  process[stream].write = (chunk, encoding, callback) => {
    const taskId = current.getStore() ?? (running.size === 1 ? [...running.keys()][0] : undefined);
    if (taskId === undefined) return original(chunk, encoding, callback);
    emit(taskId, stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (typeof encoding === 'function') encoding();
    else if (typeof callback === 'function') callback();
    return true;
  };
}

// The process environment holds nothing of any one job; a task sees its own variables on top.
const processEnv = process.env;
const ownEnv = (key) => {
  const task = running.get(current.getStore());
  return task && typeof key === 'string' && Object.hasOwn(task.env, key) ? task.env : undefined;
};
process.env = new Proxy(processEnv, {
  get: (target, key) => (ownEnv(key) ? ownEnv(key)[key] : Reflect.get(target, key)),
  has: (target, key) => Boolean(ownEnv(key)) || Reflect.has(target, key),
  set: (target, key, value) => {
    const env = ownEnv(key);
    if (!env) return Reflect.set(target, key, value);
    env[key] = String(value);
    return true;
  },
  deleteProperty: (target, key) => {
    const env = ownEnv(key);
    if (!env) return Reflect.deleteProperty(target, key);
    delete env[key];
    return true;
  },
  ownKeys: (target) => {
    const task = running.get(current.getStore());
    const keys = Reflect.ownKeys(target);
    return task ? [...new Set([...keys, ...Object.keys(task.env)])] : keys;
  },
  getOwnPropertyDescriptor: (target, key) => {
    const env = ownEnv(key);
    if (!env) return Reflect.getOwnPropertyDescriptor(target, key);
    return { value: env[key], writable: true, enumerable: true, configurable: true };
  },
});

// The working directory is one per process: it is that of the oldest running task (so a task
// running alone has its own), and the runner's own when none runs. A cancelled task no longer
// counts: its directory goes away while it may still be winding down.
// Where this runner is, kept here: process.cwd() throws once that directory is gone, and a task's
// is removed by the agent as soon as its result arrives, which on a busy host can be before this
// runner (preempted right after sending it) has moved on. That throw ended the runner and failed
// every task it ran.
let cwd = home;
function followOldest() {
  const oldest = [...running.values()].find((task) => !task.cancelled);
  const dir = oldest ? oldest.workDir : home;
  if (!dir || cwd === dir) return;
  try {
    process.chdir(dir);
    cwd = dir;
  } catch {
    process.chdir(home);
    cwd = home;
  }
}

const modules = new Map();
function load(file) {
  if (!modules.has(file)) modules.set(file, import(pathToFileURL(file).href));
  return modules.get(file);
}

function pick(mod, entrypoint) {
  if (entrypoint) {
    const fn = mod[entrypoint] ?? (mod.default && mod.default[entrypoint]);
    if (typeof fn !== 'function') throw new Error(`${entrypoint} is not a function exported by the program`);
    return fn;
  }
  if (typeof mod.default === 'function') return mod.default;
  if (typeof mod === 'function') return mod;
  throw new Error('the program exports no default function; name an entrypoint');
}

function serializable(value) {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value));
}

async function run(message) {
  const { taskId, file, entrypoint, args, workDir } = message;
  const controller = new AbortController();
  running.set(taskId, { workDir, env: { ...(message.env || {}) }, controller });
  followOldest();
  send({ type: 'started', taskId, at: Date.now() });
  await current.run(taskId, async () => {
    try {
      const fn = pick(await load(file), entrypoint);
      const value = await fn(args, { jobId: taskId, workDir, signal: controller.signal });
      flush(taskId);
      const result = JSON.stringify({ type: 'result', taskId, ok: true, value: serializable(value) });
      const bytes = Buffer.byteLength(result);
      if (bytes > MESSAGE_MAX_BYTES)
        throw new Error(
          `the result is ${bytes} bytes of JSON, more than a runner message may hold (${MESSAGE_MAX_BYTES}): write it to a file instead`,
        );
      channel.write(`${result}\n`);
    } catch (e) {
      flush(taskId);
      const error = e && e.stack ? String(e.stack) : String(e);
      // The agent keeps 16 KiB of an error anyway: its beginning and its end.
      const shown = error.length > 2 * PIECE ? `${error.slice(0, PIECE)}\n…\n${error.slice(-PIECE)}` : error;
      send({ type: 'result', taskId, ok: false, error: shown });
    } finally {
      running.delete(taskId);
      followOldest();
    }
  });
}

createInterface({ input: channel }).on('line', (line) => {
  const message = JSON.parse(line);
  if (!message) return;
  if (message.type === 'run') void run(message);
  // A task cannot be torn out of the event loop; it is told (ctx.signal) and may stop itself.
  else if (message.type === 'cancel') {
    const task = running.get(message.taskId);
    if (!task) return;
    task.cancelled = true;
    followOldest();
    task.controller.abort(message.reason);
  }
  // Answered only while the event loop turns: a task that never yields leaves it unanswered.
  else if (message.type === 'ping') send({ type: 'pong', id: message.id });
});
// The agent is gone (or closed the channel): so is this runner.
channel.on('close', () => process.exit(0));
channel.on('error', () => process.exit(0));
