import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORD_COUNT_MAPPER, WORD_COUNT_REDUCER, writeProgram } from '@spindle/testing';
import { ProgramFailure } from '../program-protocol';
import type { InputRecord, KeyValue, MapRun, ReduceRun } from '../program-protocol';
import { Partition } from '../shuffle';
import { TaskJail } from '../../sandbox/task-jail';
import { apolloProtocol } from './apollo.protocol';

jest.setTimeout(120_000);

async function* from<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}

// The protocol as the engine drives it: records in, pairs out, the engine's sort in between.
describe('the apollo protocol behind the engine seam (real programs)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'apollo-seam-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Unconfined: the confined protocol is test/mapreduce/apollo-wordcount's.
  const base = async (name: string, programPath: string, logs: string[], progress: { n: number }) => ({
    jobId: 'j-test',
    taskId: `j-test-${name}`,
    attempt: 1,
    programPath,
    workDir: join(dir, name),
    jail: await TaskJail.open(null, name, join(dir, name)),
    env: { SPINDLE_JOB_ID: 'j-test' },
    signal: new AbortController().signal,
    log: (stream: 'stdout' | 'stderr', line: string) => logs.push(`${stream}: ${line}`),
    progress: () => void progress.n++,
  });

  it('counts words: map per line, sort, reduce per key', async () => {
    const mapper = writeProgram(dir, 'mapper', WORD_COUNT_MAPPER);
    const reducer = writeProgram(dir, 'reducer', WORD_COUNT_REDUCER);
    const lines = ['the cat sat', 'on the mat', '', 'the end'];
    const records: InputRecord[] = lines.map((line, i) => ({ lineNumber: i + 1, line }));
    const mapped: KeyValue[] = [];
    const logs: string[] = [];
    const progress = { n: 0 };
    const mapRun: MapRun = {
      ...(await base('m-0', mapper, logs, progress)),
      input: from(records),
      emit: (pair) => void mapped.push(pair),
    };
    await apolloProtocol.map(mapRun);
    expect(mapped).toHaveLength(8);
    expect(progress.n).toBeGreaterThanOrEqual(4);

    const partition = new Partition();
    for (const pair of mapped) partition.add(pair);
    const reduced: KeyValue[] = [];
    const reduceRun: ReduceRun = {
      ...(await base('r-0', reducer, logs, progress)),
      reducerIndex: 0,
      input: from(partition.sorted()),
      emit: (pair) => void reduced.push(pair),
    };
    await apolloProtocol.reduce(reduceRun);
    const counts = Object.fromEntries(
      reduced.map((p) => [JSON.parse(p.key) as string, JSON.parse(p.value) as number]),
    );
    expect(counts).toEqual({ cat: 1, end: 1, mat: 1, on: 1, sat: 1, the: 3 });
    expect(reduced.map((p) => p.key)).toEqual([...reduced.map((p) => p.key)].sort()); // in the sorted order
  });

  it("reports a program's failure as a ProgramFailure the engine retries, with its stderr in the log", async () => {
    const failing = writeProgram(dir, 'failing', '#!/bin/sh\necho "no such luck" >&2\nexit 2\n');
    const logs: string[] = [];
    const run: MapRun = {
      ...(await base('m-1', failing, logs, { n: 0 })),
      input: from([{ lineNumber: 1, line: 'x' }]),
      emit: () => undefined,
    };
    const failure = apolloProtocol.map(run);
    await expect(failure).rejects.toBeInstanceOf(ProgramFailure);
    await expect(failure).rejects.toThrow(/mapper on line 0 exited with code 2\nno such luck/);
    expect(logs).toContain('stderr: no such luck');
  });
});
