import { z } from 'zod';
import { commandMetadataShape, expectedVersionShape } from '../command-metadata';
import { contextNameSchema, contextSettingsSchema } from './context-settings';
import { durationMsSchema } from './durations';

// What a command may set. Events keep the schema they were recorded with; new settings take the
// one bound of every duration (MAX_DURATION_MS, longer is "Inf"). Settings a command leaves out
// take their default on a create (DEFAULT_CONTEXT_SETTINGS) and keep their value on an update:
// the decider fills them.
const settingsToSetSchema = contextSettingsSchema
  .extend({
    downtimeMs: durationMsSchema.nullable(),
    streamingDurationMs: durationMsSchema.nullable(),
  })
  .partial();

export const createContextCommandSchema = z.object({
  ...commandMetadataShape,
  name: contextNameSchema,
  settings: settingsToSetSchema,
});
export type CreateContextCommand = z.infer<typeof createContextCommandSchema>;

export const updateContextCommandSchema = z.object({
  ...commandMetadataShape,
  ...expectedVersionShape,
  name: contextNameSchema,
  settings: settingsToSetSchema,
});
export type UpdateContextCommand = z.infer<typeof updateContextCommandSchema>;

export const deleteContextCommandSchema = z.object({
  ...commandMetadataShape,
  name: contextNameSchema,
});
export type DeleteContextCommand = z.infer<typeof deleteContextCommandSchema>;
