// Durations on the native API: "250ms", "30s", "5m", "2h", "1d", ISO-8601 ("PT1H30M"), or "Inf".
// Returns milliseconds, null for infinite, undefined when the text is not a duration.
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const COMPACT = /^(\d{1,12})(ms|s|m|h|d)$/;
const ISO = /^P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:\.\d{1,3})?)S)?)?$/;

export const DURATION_FORMAT_HINT = 'a duration such as "250ms", "30s", "5m", "2h", "1d", "PT1H30M" or "Inf"';

// A duration longer than JavaScript can count in whole milliseconds (about 285 000 years) is not one.
export function parseDuration(text: string): number | null | undefined {
  const value = text.trim();
  if (value === 'Inf') return null;
  const ms = millisecondsOf(value);
  return ms !== undefined && Number.isSafeInteger(ms) ? ms : undefined;
}

function millisecondsOf(value: string): number | undefined {
  const compact = COMPACT.exec(value);
  if (compact) return Number(compact[1]) * UNITS[compact[2]!]!;
  const iso = ISO.exec(value);
  if (iso && value !== 'P' && !value.endsWith('T')) {
    const [, d, h, m, s] = iso;
    return Math.round(
      Number(d ?? 0) * UNITS['d']! +
        Number(h ?? 0) * UNITS['h']! +
        Number(m ?? 0) * UNITS['m']! +
        Number(s ?? 0) * 1_000,
    );
  }
  return undefined;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return 'Inf';
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}
