'use strict';
// Spindle's spawner: a small long-lived process beside the worker agent that starts the agent's job
// processes (exec and jvm tasks), so that the agent's large process never forks per job (a fork
// copies the page tables of the whole process: a few milliseconds of the agent's CPU per job). It
// runs no job code and decides nothing: every command line, with the whole confinement chain in
// front of the program (spawner.ts, Jail.command), comes from the agent.
// Protocol: JSON lines both ways on fd 3 (a socket the agent made), each at most the bytes given as
// the first argument:
//   in:  {type:'spawn', id, command, argv, cwd, env, input} (input: what goes on its stdin, which then closes)
//   out: {type:'spawned', id, pid} | {type:'failed', id, error}
//        | {type:'output', id, stream:'stdout'|'stderr', data (base64)} | {type:'exit', id, code, signal}
//        | {type:'close', id} (its output closed: what it started may hold it open after its exit)
// A process leads a session of its own (detached), as when the agent spawned it. The spawner ends
// when its channel closes (the agent is gone); its processes are the agent's to end (their cgroups,
// their process groups), which it does when it sees the spawner go.
const { spawn } = require('node:child_process');
const { Socket } = require('node:net');

const MESSAGE_MAX_BYTES = Number(process.argv[2]);
// Output goes in pieces well within a message (base64 of this is 4/3 of it, plus the envelope).
const PIECE = 256 * 1024;
const channel = new Socket({ fd: 3, readable: true, writable: true });
const processes = new Map(); // id -> ChildProcess
let blocked = false; // the channel's buffer is full: output waits

function send(message) {
  if (!channel.write(`${JSON.stringify(message)}\n`) && !blocked) {
    blocked = true;
    for (const child of processes.values()) pause(child, true);
  }
}

channel.on('drain', () => {
  blocked = false;
  for (const child of processes.values()) pause(child, false);
});

function pause(child, paused) {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    if (paused) stream.pause();
    else stream.resume();
  }
}

const isString = (v) => typeof v === 'string';
const isStringArray = (v) => Array.isArray(v) && v.every(isString);
const isStringMap = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isString);

function start(message) {
  const { id, command, argv, cwd, env, input } = message;
  if (processes.has(id)) return send({ type: 'failed', id, error: `process ${id} is already running` });
  let child;
  try {
    child = spawn(command, argv, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return send({ type: 'failed', id, error: e instanceof Error ? e.message : String(e) });
  }
  processes.set(id, child);
  let exited = false;
  let open = 2; // stdout and stderr
  const closed = () => {
    if (!exited || open > 0) return;
    processes.delete(id);
    send({ type: 'close', id });
  };
  for (const name of ['stdout', 'stderr']) {
    const stream = child[name];
    if (blocked) stream.pause();
    stream.on('data', (chunk) => {
      for (let at = 0; at < chunk.length; at += PIECE)
        send({ type: 'output', id, stream: name, data: chunk.subarray(at, at + PIECE).toString('base64') });
    });
    stream.on('close', () => {
      open--;
      closed();
    });
  }
  child.stdin.on('error', () => undefined); // a program that never reads its input
  child.stdin.end(input);
  child.on('spawn', () => send({ type: 'spawned', id, pid: child.pid }));
  child.on('error', (e) => {
    if (exited) return;
    exited = true;
    processes.delete(id);
    send({ type: 'failed', id, error: e.message });
  });
  child.on('exit', (code, signal) => {
    if (exited) return;
    exited = true;
    send({ type: 'exit', id, code, signal });
    closed();
  });
}

function receive(line) {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message === null || typeof message !== 'object' || !isString(message.id)) return;
  if (
    message.type !== 'spawn' ||
    !isString(message.command) ||
    !isStringArray(message.argv) ||
    !isString(message.cwd) ||
    !isStringMap(message.env) ||
    !isString(message.input)
  )
    return;
  start(message);
}

// Lines of at most MESSAGE_MAX_BYTES: a longer one is dropped whole (the agent never sends one).
let parts = [];
let size = 0;
let dropping = false;
channel.on('data', (chunk) => {
  let from = 0;
  for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, from)) {
    const piece = chunk.subarray(from, newline);
    const whole = !dropping && size + piece.length <= MESSAGE_MAX_BYTES;
    if (whole) receive(Buffer.concat([...parts, piece]).toString('utf8'));
    parts = [];
    size = 0;
    dropping = false;
    from = newline + 1;
  }
  const rest = chunk.subarray(from);
  if (dropping || rest.length === 0) return;
  if (size + rest.length > MESSAGE_MAX_BYTES) {
    parts = [];
    size = 0;
    dropping = true;
    return;
  }
  parts.push(rest);
  size += rest.length;
});
channel.on('error', () => undefined);
// The agent is gone: nothing would read what its processes say.
channel.on('close', () => process.exit(0));
