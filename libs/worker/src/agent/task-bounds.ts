import type { TaskResult } from '../sandbox';

// What a task's end report may carry. It travels as an event through the outbox and Kafka (whose
// messages stop at 1 MiB by default, and a message that can never be published would hold up
// every event behind it), so a result or an error beyond its limit never goes there whole.
export interface ReportLimits {
  readonly maxResultBytes: number; // SPINDLE_JOB_MAX_RESULT_BYTES
  readonly maxErrorBytes: number;
  readonly logChunkBytes: number; // no log line is longer than this
}

export interface LogSink {
  readonly lineCount: number;
  system(text: string): void;
}

// A result too large for the report is written into the job's log (system lines of at most
// `logChunkBytes`, joined without separators they are its JSON), and the result becomes a
// reference to those lines: `{resultInLog: {bytes, from, lines}}`, `from` a 0-based offset for
// GET .../logs?from=. An error too long keeps its first and last parts.
export function boundReport(result: TaskResult, limits: ReportLimits, log: LogSink): TaskResult {
  if (result.outcome !== 'succeeded') {
    return { outcome: result.outcome, error: shorten(result.error, limits.maxErrorBytes) };
  }
  const json = JSON.stringify(result.result ?? null);
  const bytes = Buffer.byteLength(json);
  if (bytes <= limits.maxResultBytes) return result;
  log.system(
    `[spindle] the result (${bytes} bytes) is over SPINDLE_JOB_MAX_RESULT_BYTES (${limits.maxResultBytes}): its JSON follows, cut into lines`,
  );
  const from = log.lineCount;
  const chunks = chunk(json, limits.logChunkBytes);
  for (const part of chunks) log.system(part);
  return { outcome: 'succeeded', result: { resultInLog: { bytes, from, lines: chunks.length } } };
}

function shorten(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const keep = Math.floor(maxBytes / 2) - 64;
  const head = Buffer.from(text)
    .subarray(0, keep)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  const tail = Buffer.from(text)
    .subarray(-keep)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
  return `${head}\n… (${Buffer.byteLength(text) - 2 * keep} bytes left out) …\n${tail}`;
}

// Cuts the UTF-8 bytes into pieces of at most maxBytes, never inside a character.
function chunk(text: string, maxBytes: number): string[] {
  const bytes = Buffer.from(text);
  const parts: string[] = [];
  for (let start = 0; start < bytes.length;) {
    let end = Math.min(start + maxBytes, bytes.length);
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--; // a continuation byte
    parts.push(bytes.toString('utf8', start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [''];
}
