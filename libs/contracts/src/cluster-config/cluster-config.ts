import { z } from 'zod';

// The cluster's configuration documents besides the settings: the log catalogue, the logger
// levels and the event rules. Each lives in a stream of its own and is replaced or changed as
// a whole document, so a reader needs only the latest event of a stream.
export const LOG_CATALOGUE_STREAM_ID = 'log-catalogue';
export const LOGGERS_STREAM_ID = 'loggers';
export const EVENT_RULES_STREAM_ID = 'event-rules';

const name = z.string().min(1).max(200);

export const logCatalogueEntrySchema = z.strictObject({
  id: name.describe('The log ID'),
  group: z.string().max(200).describe('The log group'),
  job: z.string().max(200).describe('The log job'),
  task: z.string().max(200).describe('The task'),
  fileName: z.string().max(500).describe('The file name'),
  logLevel: z.boolean().describe('If the process supports log level or not'),
});
export const logCatalogueSchema = z
  .array(logCatalogueEntrySchema)
  .max(1_000)
  .refine((logs) => new Set(logs.map((l) => l.id)).size === logs.length, {
    message: 'log ids must be unique',
  });
export type LogCatalogueEntry = z.infer<typeof logCatalogueEntrySchema>;

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'fatal', 'panic'] as const;
export const logLevelSchema = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof logLevelSchema>;

// { loggerID: { name: level } }: the defaults, and per allocation the levels that override them.
const levelsByName = z.record(name, logLevelSchema);
const levelsByLogger = z.record(name, levelsByName);
export const loggersDocumentSchema = z.strictObject({
  defaults: levelsByLogger,
  allocs: z.record(name, levelsByLogger),
});
export type LoggerLevels = z.infer<typeof levelsByName>;
export type LoggersDocument = z.infer<typeof loggersDocumentSchema>;
export const EMPTY_LOGGERS: LoggersDocument = { defaults: {}, allocs: {} };

// A MongoDB query (`where`) or aggregation expression (`key`, `value`): kept as JSON here,
// compiled by the events evaluator (mingo), whose refusals are the definitions' errors.
const mongoJson = z.json();
export const eventMapRuleSchema = z.strictObject({
  id: name,
  source: name.describe('The source of the published events this rule takes'),
  where: z.record(z.string(), mongoJson).optional(),
  key: z.array(mongoJson).max(20).optional(),
  value: mongoJson.optional(),
});
export const REDUCE_OPERATIONS = ['count', 'sum', 'min', 'max'] as const;
export const eventReduceRuleSchema = z.strictObject({
  id: name,
  source: name.describe('The id of the map rule whose results this rule reduces'),
  where: z.record(z.string(), mongoJson).optional(),
  operations: z.array(z.enum(REDUCE_OPERATIONS)).min(1).max(4),
  period: z.number().int().min(50).max(3_600_000).describe('Milliseconds per reduction'),
});
export const eventRulesFileSchema = z.strictObject({
  maps: z.array(eventMapRuleSchema).max(200).default([]),
  reductions: z.array(eventReduceRuleSchema).max(200).default([]),
});
export const eventRulesSchema = z.array(eventRulesFileSchema).max(50);
export type EventMapRule = z.infer<typeof eventMapRuleSchema>;
export type EventReduceRule = z.infer<typeof eventReduceRuleSchema>;
export type EventRulesFile = z.infer<typeof eventRulesFileSchema>;

// What one allocation runs with: the defaults, each name overridden by the allocation's own level.
export function effectiveLoggers(loggers: LoggersDocument, allocId: string): Record<string, LoggerLevels> {
  const own = loggers.allocs[allocId] ?? {};
  const ids = new Set([...Object.keys(loggers.defaults), ...Object.keys(own)]);
  return Object.fromEntries([...ids].sort().map((id) => [id, { ...loggers.defaults[id], ...own[id] }]));
}
