import { z } from 'zod';
import { commandMetadataShape } from '../command-metadata';
import { eventRulesSchema, logCatalogueSchema, logLevelSchema } from './cluster-config';

export const replaceLogCatalogueCommandSchema = z.object({
  ...commandMetadataShape,
  logs: logCatalogueSchema,
});
export type ReplaceLogCatalogueCommand = z.infer<typeof replaceLogCatalogueCommandSchema>;

// Sets the named levels of one logger, as defaults (allocId null) or for one allocation; an
// empty level removes the name's entry, so the default applies again.
export const setLoggerLevelsCommandSchema = z.object({
  ...commandMetadataShape,
  allocId: z.string().min(1).max(200).nullable(),
  loggerId: z.string().min(1).max(200),
  levels: z.record(z.string().min(1).max(200), z.union([logLevelSchema, z.literal('')])),
});
export type SetLoggerLevelsCommand = z.infer<typeof setLoggerLevelsCommandSchema>;

export const replaceEventRulesCommandSchema = z.object({
  ...commandMetadataShape,
  files: eventRulesSchema,
});
export type ReplaceEventRulesCommand = z.infer<typeof replaceEventRulesCommandSchema>;
