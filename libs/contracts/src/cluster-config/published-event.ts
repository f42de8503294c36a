import { z } from 'zod';

// How a job publishes an event for the event rules: one line on its stdout,
//   SPINDLE_EVENT {"source": "vote", "data": {"color": "red"}}
// shipped with its other output. Any other line is only a log line.
export const PUBLISHED_EVENT_PREFIX = 'SPINDLE_EVENT ';

export const publishedEventSchema = z.strictObject({
  source: z.string().min(1).max(200),
  data: z.json().optional(),
});

// What the rules see: the published event, and which job published it when.
export interface PublishedEvent {
  readonly source: string;
  readonly data: unknown;
  readonly jobId: string;
  readonly at: string;
}

export function parsePublishedEvent(text: string, jobId: string, at: string): PublishedEvent | null {
  if (!text.startsWith(PUBLISHED_EVENT_PREFIX)) return null;
  try {
    const parsed = publishedEventSchema.safeParse(JSON.parse(text.slice(PUBLISHED_EVENT_PREFIX.length)));
    return parsed.success ? { source: parsed.data.source, data: parsed.data.data ?? null, jobId, at } : null;
  } catch {
    return null; // not JSON: an ordinary line that happens to start so
  }
}
