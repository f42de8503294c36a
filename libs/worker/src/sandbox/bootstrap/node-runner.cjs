'use strict';
// Spindle's node runner: one long-lived process that runs a worker's node tasks, several at once.
// Protocol over the IPC channel of child_process.fork:
//   in:  {type:'run', taskId, file, entrypoint, args, workDir}
//   out: {type:'log', taskId, stream, text} | {type:'result', taskId, ok, value?, error?}
// Output written inside a task (console.*, process.stdout/stderr.write, also after awaits and
// timers) is attributed to it through AsyncLocalStorage and sent line by line.
const { AsyncLocalStorage } = require('node:async_hooks');
const { pathToFileURL } = require('node:url');

const current = new AsyncLocalStorage();
const partial = new Map(); // `${taskId}:${stream}` -> unfinished line
const running = new Set();
const send = (message) => process.send && process.send(message);

function emit(taskId, stream, chunk) {
  const key = `${taskId}:${stream}`;
  const text = (partial.get(key) || '') + chunk;
  const lines = text.split('\n');
  partial.set(key, lines.pop());
  for (const line of lines)
    send({ type: 'log', taskId, stream, text: line.endsWith('\r') ? line.slice(0, -1) : line });
}

function flush(taskId) {
  for (const stream of ['stdout', 'stderr']) {
    const key = `${taskId}:${stream}`;
    const rest = partial.get(key);
    if (rest) send({ type: 'log', taskId, stream, text: rest });
    partial.delete(key);
  }
}

for (const stream of ['stdout', 'stderr']) {
  const original = process[stream].write.bind(process[stream]);
  process[stream].write = (chunk, encoding, callback) => {
    const taskId = current.getStore() ?? (running.size === 1 ? [...running][0] : undefined);
    if (taskId === undefined) return original(chunk, encoding, callback);
    emit(taskId, stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (typeof encoding === 'function') encoding();
    else if (typeof callback === 'function') callback();
    return true;
  };
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
  running.add(taskId);
  if (running.size === 1 && workDir) {
    try {
      process.chdir(workDir); // only meaningful while one task runs; tasks share the process
    } catch {}
  }
  await current.run(taskId, async () => {
    try {
      const fn = pick(await load(file), entrypoint);
      const value = await fn(args, { jobId: taskId, workDir });
      flush(taskId);
      send({ type: 'result', taskId, ok: true, value: serializable(value) });
    } catch (e) {
      flush(taskId);
      send({ type: 'result', taskId, ok: false, error: e && e.stack ? String(e.stack) : String(e) });
    } finally {
      running.delete(taskId);
    }
  });
}

process.on('message', (message) => {
  if (message && message.type === 'run') void run(message);
});
process.on('disconnect', () => process.exit(0));
