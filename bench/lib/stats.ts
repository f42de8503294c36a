// Latency summaries for the report: exact percentiles of the recorded samples (every sample is
// kept; runs are bounded in count), in milliseconds with 0.1 ms resolution.
export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => round(quantile(sorted, q));
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted.at(-1)!) };
}

// The q-quantile of samples sorted ascending, by nearest rank (a sample, never an interpolation).
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))]!;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}

// The wall clock with sub-millisecond resolution, comparable across processes of one host.
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
