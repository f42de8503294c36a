import { z } from 'zod';

// What a worker agent ships for a job's output, on topic spindle.worker.log.v1, keyed by job id so
// a job's batches stay in order. Plain JSON, not an event envelope: log lines are data, not facts
// about an entity, and they are too many for the event store.
//
// The agent numbers the lines (1-based) and counts bytes as the job's log text would hold them:
// every line is its UTF-8 text followed by "\n". A batch says where it starts in both counts, so
// the collector stores it without reading anything first, and a redelivered batch is recognised
// by its line numbers and skipped.
export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

export const logLineSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  stream: z.enum(LOG_STREAMS),
  text: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

export const logBatchSchema = z.object({
  jobId: z.string().min(1),
  workerId: z.string().min(1),
  firstLine: z.number().int().positive(), // number of lines[0]
  firstByte: z.number().int().nonnegative(), // byte offset of lines[0] in the job's log text
  lines: z.array(logLineSchema).min(1),
});
export type LogBatch = z.infer<typeof logBatchSchema>;

// The totals a finished task reports, so a reader knows when it has every line.
export const logTotalsSchema = z.object({
  lines: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type LogTotals = z.infer<typeof logTotalsSchema>;

export function logLineBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8') + 1;
}
