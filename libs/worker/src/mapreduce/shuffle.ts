import type { ObjectStorage, StorageLocation } from '@spindle/platform';
import { LineSplitter } from '../sandbox/line-splitter';
import { ProgramFailure } from './program-protocol';
import type { KeyValue } from './program-protocol';

// The shuffle goes through the job's output storage: map task i writes one sorted spill object per
// reducer r at <output>/_temporary/<jobId>/map-<i>/part-<r> (empty ones too, so a reducer knows
// it has them all), and reduce task r reads part-<r> of every map. No map task's host has to stay
// up for the reducers, and the output committer deletes _temporary at the end.
export function temporaryPrefix(output: StorageLocation, jobId: string): string {
  const base = output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`;
  return `${base}_temporary/${jobId}/`;
}

export function spillKey(output: StorageLocation, jobId: string, mapIndex: number, reducer: number): string {
  return `${temporaryPrefix(output, jobId)}map-${mapIndex}/part-${reducer}`;
}

// Keys are compared by UTF-16 code units, the order every reducer sees.
export function byKey(a: KeyValue, b: KeyValue): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

// Spill lines are `key\tvalue`: a key with a tab or a line break, or a value with a line break,
// could not be read back, so a pair that has one fails its task instead of corrupting the shuffle.
export function checkPair(pair: KeyValue): void {
  if (/[\t\n]/.test(pair.key))
    throw new ProgramFailure(
      `a key may not contain a tab or a line break: ${JSON.stringify(pair.key.slice(0, 80))}`,
    );
  if (pair.value.includes('\n'))
    throw new ProgramFailure(
      `a value may not contain a line break (key ${JSON.stringify(pair.key.slice(0, 80))})`,
    );
}

export function encodeSpill(pairs: readonly KeyValue[]): Buffer {
  return Buffer.from(pairs.map((p) => `${p.key}\t${p.value}\n`).join(''), 'utf8');
}

export async function readSpill(storage: ObjectStorage, bucket: string, key: string): Promise<KeyValue[]> {
  const pairs: KeyValue[] = [];
  const lines = new LineSplitter((line) => {
    const tab = line.indexOf('\t');
    pairs.push({ key: line.slice(0, tab), value: line.slice(tab + 1) });
  }, Number.MAX_SAFE_INTEGER);
  for await (const chunk of await storage.read(bucket, key)) lines.push(chunk as Buffer);
  lines.end();
  return pairs;
}
