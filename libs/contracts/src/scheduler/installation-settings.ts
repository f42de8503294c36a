import { z } from 'zod';
import { timeoutMsSchema } from './durations';

// The installation's live settings: one document, one stream, owned by the scheduler. Every field
// has a default, so a document with fields left out is completed by parsing it.
export const SETTINGS_STREAM_ID = 'settings';

// The most log lines one page may ask for, whatever the settings say.
export const LOG_PAGE_MAX_LINES = 25_000;

// Built twice from one description: strict for what clients send (an unknown path is an error
// they should see), lenient for events (a later optional setting must not break older readers).
function settingsSchemaOf(object: typeof z.object) {
  const jobs = object({
    startTimeoutMs: timeoutMsSchema
      .nullable()
      .default(null)
      .describe('Start timeout (ms) of a job submitted without one; null: none'),
    performTimeoutMs: timeoutMsSchema
      .nullable()
      .default(null)
      .describe('Perform timeout (ms) of a job submitted without one; null: none'),
  });
  const logs = object({
    maxPageLines: z
      .number()
      .int()
      .min(1)
      .max(LOG_PAGE_MAX_LINES)
      .default(LOG_PAGE_MAX_LINES)
      .describe("The most lines one page of a job's log answers (a larger `limit` is cut to it)"),
  });
  return object({
    jobs: jobs.prefault({}).describe('Defaults of submitted jobs'),
    logs: logs.prefault({}).describe('Log reads'),
  });
}

export const installationSettingsSchema = settingsSchemaOf(z.object);
export const settingsInputSchema = settingsSchemaOf(z.strictObject as unknown as typeof z.object);
export type InstallationSettings = z.infer<typeof installationSettingsSchema>;

export const DEFAULT_INSTALLATION_SETTINGS: InstallationSettings = installationSettingsSchema.parse({});

// The published JSON Schema of the settings document, generated from the zod schema (the input
// side: every field optional, with its default).
export function settingsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(settingsInputSchema, { io: 'input' }),
    title: 'Spindle installation settings',
  };
}
