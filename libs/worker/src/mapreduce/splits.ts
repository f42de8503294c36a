import type { StoredObject } from '@spindle/platform';

export const DEFAULT_SPLIT_SIZE = 64 * 1024 * 1024; // 64 MiB, as Hadoop and Apollo

// A byte range [start, end) of one input object: one map task. Lines are aligned by the reader
// (split-reader.ts), not here.
export interface InputSplit {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

// Every object cut into ranges of splitSize bytes (the last one shorter); empty objects give none.
export function planSplits(objects: readonly StoredObject[], splitSize: number): InputSplit[] {
  if (!Number.isInteger(splitSize) || splitSize < 1)
    throw new RangeError('splitSize must be a positive integer');
  const splits: InputSplit[] = [];
  for (const o of objects)
    for (let start = 0; start < o.size; start += splitSize)
      splits.push({ key: o.key, start, end: Math.min(o.size, start + splitSize) });
  return splits;
}
