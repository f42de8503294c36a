import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { LineSplitter } from '../../sandbox/line-splitter';
import { killGroup } from '../../sandbox/types';
import { ProgramFailure } from '../program-protocol';
import type { KeyValue, KeyValues, OutputPlan, ProgramProtocol, ProgramRun } from '../program-protocol';

// Hadoop Streaming: one process per task. Its stdin gets the records as lines (a map task's input
// lines; a reduce task's `key\tvalue` pairs, sorted by key, one line per value), and every line it
// writes on stdout is a pair: the key up to the first tab, the value after it (no tab: the whole
// line is the key, the value empty). A non-zero exit fails the task.

const STDERR_TAIL = 20;
const MAX_RECORD_BYTES = 16 * 1024 * 1024; // a longer line is cut, as the log collector would

export function parseStreamingLine(line: string): KeyValue {
  const tab = line.indexOf('\t');
  return tab < 0 ? { key: line, value: '' } : { key: line.slice(0, tab), value: line.slice(tab + 1) };
}

export function formatStreamingPair(pair: KeyValue): string {
  return pair.value === '' ? pair.key : `${pair.key}\t${pair.value}`;
}

// `input`: the program's stdin as pieces of text, each one or more whole lines with their "\n".
async function runOneProcess(
  run: ProgramRun,
  input: AsyncIterable<string>,
  emit: (pair: KeyValue) => void | Promise<void>,
): Promise<void> {
  run.signal.throwIfAborted();
  const { command, argv, release } = run.jail.command(run.programPath, []);
  const child = spawn(command, argv, {
    cwd: run.workDir,
    env: run.jail.env(run.env),
    detached: true, // its own process group: a stop kills what it started too
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const kill = (): void => {
    if (child.pid !== undefined) killGroup(child.pid, 1_000);
  };
  run.signal.addEventListener('abort', kill, { once: true });

  // stdout is read as fast as it comes. A pair is emitted at once while no emit is pending; once
  // one returns a promise, the pairs after it wait in a chain so that they keep their order (a
  // promise per pair would cost more than the pair).
  let emitting: Promise<void> | undefined;
  let emitError: Error | undefined;
  const failed = (e: unknown): void => void (emitError ??= e instanceof Error ? e : new Error(String(e)));
  const emitInOrder = (pair: KeyValue): void => {
    if (emitError !== undefined) return; // the task fails with it; later pairs change nothing
    if (emitting !== undefined) {
      emitting = emitting.then(() => emit(pair)).catch(failed);
      return;
    }
    try {
      const pending = emit(pair);
      if (pending === undefined) return;
      const chain: Promise<void> = pending.catch(failed).finally(() => {
        if (emitting === chain) emitting = undefined;
      });
      emitting = chain;
    } catch (e) {
      failed(e);
    }
  };
  const stdout = new LineSplitter((line) => {
    run.progress();
    emitInOrder(parseStreamingLine(line));
  }, MAX_RECORD_BYTES);
  const stderrTail: string[] = [];
  const stderr = new LineSplitter((line) => {
    run.progress();
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    run.log('stderr', line);
  });
  child.stdout.on('data', (c: Buffer) => stdout.push(c));
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (done) => {
      child.once('error', (error) => done({ code: null, signal: null, error }));
      child.once('close', (code, signal) => done({ code, signal }));
    },
  ).finally(release);

  // A program may exit without reading all of its input (head, a failing mapper): EPIPE is its
  // business, its exit code tells.
  let stdinClosed = false;
  child.stdin.on('error', () => void (stdinClosed = true));
  child.stdin.on('close', () => void (stdinClosed = true));
  // Lines are written in batches of about 64 KiB: a write per line costs more than the line.
  const write = async (batch: string): Promise<void> => {
    if (!child.stdin.write(batch))
      await Promise.race([once(child.stdin, 'drain').catch(() => undefined), closed]);
  };
  const feed = (async () => {
    let batch = '';
    for await (const text of input) {
      if (stdinClosed || run.signal.aborted) return;
      batch += text;
      if (batch.length < 65_536) continue;
      run.progress();
      await write(batch);
      batch = '';
    }
    if (batch !== '' && !stdinClosed) await write(batch);
  })();
  try {
    await Promise.race([feed, closed.then(() => undefined)]);
  } finally {
    child.stdin.end();
  }
  const result = await closed;
  await feed.catch(() => undefined);
  stdout.end();
  stderr.end();
  await emitting;
  run.signal.removeEventListener('abort', kill);
  run.signal.throwIfAborted();
  if (result.error) throw new ProgramFailure(`could not start the program: ${result.error.message}`);
  if (result.code !== 0) {
    const how = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
    throw new ProgramFailure([how, ...stderrTail].join('\n'));
  }
  if (emitError !== undefined) throw emitError;
}

async function* mapLines(records: AsyncIterable<{ line: string }>): AsyncIterable<string> {
  for await (const r of records) yield `${r.line}\n`;
}

// A key's lines at once: one piece of stdin per key, not per value.
async function* pairLines(groups: AsyncIterable<KeyValues>): AsyncIterable<string> {
  for await (const { key, values } of groups) {
    let text = '';
    for (const value of values) text += `${formatStreamingPair({ key, value })}\n`;
    yield text;
  }
}

const streamingOutput: OutputPlan = {
  // Hadoop's names: part-r-00000 for reducers, part-m-00000 for the maps of a map-only job.
  objectOf: ({ output }, kind, index) => ({
    bucket: output.bucket,
    key: `${output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`}part-${
      kind === 'reduce' ? 'r' : 'm'
    }-${String(index).padStart(5, '0')}`,
  }),
  encode: (pairs) => Buffer.from(pairs.map((p) => `${formatStreamingPair(p)}\n`).join(''), 'utf8'),
  successMarker: true,
};

export const streamingProtocol: ProgramProtocol = {
  name: 'streaming',
  map: (run) => runOneProcess(run, mapLines(run.input), (pair) => run.emit(pair)),
  reduce: (run) => runOneProcess(run, pairLines(run.input), (pair) => run.emit(pair)),
  output: streamingOutput,
};
