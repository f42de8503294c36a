import { z } from 'zod';

// The longest duration Spindle accepts, in ms: 2^31−1 (about 24.8 days). Node's timers hold no
// more, and the dispatch and read-model tables keep durations in `integer` columns. Longer means
// no limit: "Inf" (null).
export const MAX_DURATION_MS = 2_147_483_647;

// A job's timeouts: at least 1 ms.
export const timeoutMsSchema = z.number().int().min(1).max(MAX_DURATION_MS);

// Other durations (a context's downtime, a worker's grace): 0 is allowed.
export const durationMsSchema = z.number().int().min(0).max(MAX_DURATION_MS);
