import { z } from 'zod';
import { contextNameSchema, contextSettingsSchema } from './context-settings';
import { durationMsSchema } from './durations';

const metadata = {
  correlationId: z.string().min(1).max(200),
  // Time is decided at the edge and carried in, so decisions stay pure and replayable.
  issuedAt: z.iso.datetime({ offset: true }),
  // The client's Idempotency-Key header, when it sent one.
  idempotencyKey: z.string().min(1).max(255).optional(),
};

// What a command may set. Events keep the schema they were recorded with; new settings take the
// one bound of every duration (MAX_DURATION_MS, longer is "Inf").
const settingsToSetSchema = contextSettingsSchema.extend({
  downtimeMs: durationMsSchema.nullable(),
  streamingDurationMs: durationMsSchema.nullable(),
});

export const createContextCommandSchema = z.object({
  ...metadata,
  name: contextNameSchema,
  settings: settingsToSetSchema,
});
export type CreateContextCommand = z.infer<typeof createContextCommandSchema>;

export const updateContextCommandSchema = z.object({
  ...metadata,
  name: contextNameSchema,
  settings: settingsToSetSchema,
});
export type UpdateContextCommand = z.infer<typeof updateContextCommandSchema>;

export const deleteContextCommandSchema = z.object({
  ...metadata,
  name: contextNameSchema,
});
export type DeleteContextCommand = z.infer<typeof deleteContextCommandSchema>;
