import { z } from 'zod';

export const WORKER_MODES = ['shared', 'exclusive'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

// Mist's execution settings, with durations in milliseconds (null = infinite).
export const contextSettingsSchema = z.object({
  config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  downtimeMs: z.number().int().nonnegative().nullable(),
  maxJobs: z.number().int().min(1).max(10_000),
  workerMode: z.enum(WORKER_MODES),
  precreated: z.boolean(),
  runOptions: z.string().max(10_000),
  streamingDurationMs: z.number().int().nonnegative().nullable(),
  maxConnFailures: z.number().int().min(0).max(1_000_000),
  // Pools that are not Mist's (a group's): the jobs one shared worker runs at once (absent:
  // maxJobs) and how many shared workers a precreated context keeps up (absent: 1).
  workerJobs: z.number().int().min(1).max(10_000).optional(),
  keepWorkers: z.number().int().min(0).max(10_000).optional(),
});
export type ContextSettings = z.infer<typeof contextSettingsSchema>;

export const DEFAULT_CONTEXT_NAME = 'default';

// Mist's own defaults (downtime 3600 s, maxJobs 1, exclusive, streamingDuration 1 s, maxConnFailures 5).
export const DEFAULT_CONTEXT_SETTINGS: ContextSettings = {
  config: {},
  downtimeMs: 3_600_000,
  maxJobs: 1,
  workerMode: 'exclusive',
  precreated: false,
  runOptions: '',
  streamingDurationMs: 1_000,
  maxConnFailures: 5,
};

// Names become stream ids, URL segments and directory names: keep them boring.
export const CONTEXT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const contextNameSchema = z.string().regex(CONTEXT_NAME_PATTERN);

export function contextStreamId(name: string): string {
  return `context-${name}`;
}
