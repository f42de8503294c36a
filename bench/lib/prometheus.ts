import { round } from './stats';

// A histogram of one label set, read from Prometheus text: cumulative bucket counts by upper bound.
export interface HistogramSnapshot {
  readonly buckets: ReadonlyMap<number, number>;
  readonly count: number;
  readonly sum: number;
}

export function histogramOf(text: string, name: string, labels: string): HistogramSnapshot {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le) buckets.set(le === '+Inf' ? Infinity : Number(le), value);
    } else if (line.startsWith(`${name}_count`)) count = value;
    else if (line.startsWith(`${name}_sum`)) sum = value;
  }
  return { buckets, count, sum };
}

export function counterOf(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

// What was observed between two scrapes.
export function histogramDelta(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  const buckets = new Map<number, number>();
  for (const [le, n] of after.buckets) buckets.set(le, n - (before.buckets.get(le) ?? 0));
  return { buckets, count: after.count - before.count, sum: after.sum - before.sum };
}

// The q-quantile in milliseconds, interpolated linearly inside its bucket (as histogram_quantile
// does); resolution is the bucket layout's.
export function quantileMs(h: HistogramSnapshot, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of [...h.buckets].sort((a, b) => a[0] - b[0])) {
    if (cumulative >= rank) {
      if (le === Infinity) return round(lower * 1000);
      const inBucket = cumulative - below;
      const fraction = inBucket > 0 ? (rank - below) / inBucket : 0;
      return round((lower + (le - lower) * fraction) * 1000);
    }
    lower = le;
    below = cumulative;
  }
  return round(lower * 1000);
}
