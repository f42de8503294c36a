import type { ObjectStorage, StorageLocation } from '@spindle/platform';
import { LineSplitter } from '../sandbox/line-splitter';
import { ProgramFailure } from './program-protocol';
import type { KeyValue, KeyValues } from './program-protocol';

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

// A map task's output for one reducer: the values grouped by key as the program emits them, and
// sorted by key once it has succeeded. Sorting the distinct keys instead of every pair is what a
// word count needs (thousands of keys for millions of pairs); a key's values keep the program's
// order, as a stable sort of the pairs would.
export class Partition {
  private readonly valuesByKey = new Map<string, string[]>();

  add(pair: KeyValue): void {
    const values = this.valuesByKey.get(pair.key);
    if (values) values.push(pair.value);
    else this.valuesByKey.set(pair.key, [pair.value]);
  }

  // In UTF-16 code unit order: Array.prototype.sort's own without a comparator, the order every
  // reducer sees.
  sorted(): KeyValues[] {
    return [...this.valuesByKey.keys()].sort().map((key) => ({ key, values: this.valuesByKey.get(key)! }));
  }
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

// `key\tvalue` lines, one per value. Built in pieces of about 1 MB: one string per line to join
// would be millions of them at once.
export function encodeSpill(groups: readonly KeyValues[]): Buffer {
  const pieces: Buffer[] = [];
  let text = '';
  for (const { key, values } of groups)
    for (const value of values) {
      text += `${key}\t${value}\n`;
      if (text.length < 1 << 20) continue;
      pieces.push(Buffer.from(text, 'utf8'));
      text = '';
    }
  pieces.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(pieces);
}

// A spill as it was written: sorted by key, adjacent lines of one key grouped.
export async function readSpill(storage: ObjectStorage, bucket: string, key: string): Promise<KeyValues[]> {
  const groups: { key: string; values: string[] }[] = [];
  const lines = new LineSplitter((line) => {
    const tab = line.indexOf('\t');
    const key = line.slice(0, tab);
    const last = groups.at(-1);
    if (last?.key === key) last.values.push(line.slice(tab + 1));
    else groups.push({ key, values: [line.slice(tab + 1)] });
  }, Number.MAX_SAFE_INTEGER);
  for await (const chunk of await storage.read(bucket, key)) lines.push(chunk as Buffer);
  lines.end();
  return groups;
}

// Each spill is sorted already: a k-way merge into one group per key, whose values come in map
// order (ties go to the earlier map). k is the number of map tasks, so a scan of the heads beats
// a heap.
export function mergeSorted(runs: readonly (readonly KeyValues[])[]): KeyValues[] {
  const heads = runs.map(() => 0);
  const merged: { key: string; values: string[] }[] = [];
  for (;;) {
    let best = -1;
    for (let r = 0; r < runs.length; r++)
      if (
        heads[r]! < runs[r]!.length &&
        (best < 0 || runs[r]![heads[r]!]!.key < runs[best]![heads[best]!]!.key)
      )
        best = r;
    if (best < 0) return merged;
    const group = runs[best]![heads[best]!++]!;
    const last = merged.at(-1);
    if (last?.key === group.key) for (const value of group.values) last.values.push(value);
    else merged.push({ key: group.key, values: [...group.values] });
  }
}
