import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import {
  CommandPatterns,
  EVENT_RULES_STREAM_ID,
  LOGGERS_STREAM_ID,
  LOG_CATALOGUE_STREAM_ID,
  LOG_LEVELS,
  compileRules,
  eventRulesFileSchema,
  eventRulesSchema,
  logCatalogueSchema,
} from '@spindle/contracts';
import type { EventRulesFile, LogCatalogueEntry, LoggerLevels } from '@spindle/contracts';
import { SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ClusterConfigQuery, JobsQuery } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import { awaitVisible, notFound } from '../read-back';
import { violationsOf } from '../settings/installation-settings.service';

export type LevelsByLogger = Record<string, Record<string, string>>;

export interface EventDefinitions {
  readonly files: EventRulesFile[];
  readonly errors: string[]; // one per rule left out of the evaluation
}

// `{name: level}`; an empty level takes the name's entry away (the default applies again).
const levelsBodySchema = z
  .record(
    z.string().min(1).max(200),
    z.enum([...LOG_LEVELS, ''], { error: `must be one of ${LOG_LEVELS.join(', ')} ("" for the default)` }),
  )
  .refine((levels) => Object.keys(levels).length > 0, { message: 'names at least one logger name' });

// The cluster's configuration documents (log catalogue, logger levels, event rules) for the
// native API and Genvid's alike: a body is validated at the edge against the contracts' schema
// (a 400 naming each path, nothing sent), decided by the scheduler, and answered once the read
// model has it. Refusals are problems, which each surface renders its own way.
@Injectable()
export class ClusterConfigService {
  constructor(
    private readonly commands: CommandSender,
    private readonly query: ClusterConfigQuery,
    private readonly jobs: JobsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  logCatalogue(): Promise<LogCatalogueEntry[]> {
    return this.query.logCatalogue();
  }

  async replaceLogCatalogue(body: unknown, correlationId: string): Promise<LogCatalogueEntry[]> {
    const logs = this.parse(logCatalogueSchema, body, 'a log field');
    await this.change(CommandPatterns.replaceLogCatalogue, LOG_CATALOGUE_STREAM_ID, { logs }, correlationId);
    return this.query.logCatalogue();
  }

  async loggerDefaults(): Promise<LevelsByLogger> {
    return (await this.query.loggers()).defaults;
  }

  // Merges `{name: level}` into one logger's defaults; answers that logger's defaults.
  async setLoggerDefaults(loggerId: string, body: unknown, correlationId: string): Promise<LoggerLevels> {
    await this.setLevels(null, loggerId, body, correlationId);
    return (await this.query.loggers()).defaults[loggerId] ?? {};
  }

  // Every logger and name of the defaults or of the allocation's own levels, with the
  // allocation's level, or "" where it uses the default.
  async allocationLoggers(allocId: string): Promise<LevelsByLogger> {
    await this.assertAllocation(allocId);
    const loggers = await this.query.loggers();
    const own = loggers.allocs[allocId] ?? {};
    const ids = new Set([...Object.keys(loggers.defaults), ...Object.keys(own)]);
    return Object.fromEntries(
      [...ids].sort().map((id) => {
        const names = new Set([...Object.keys(loggers.defaults[id] ?? {}), ...Object.keys(own[id] ?? {})]);
        return [id, Object.fromEntries([...names].sort().map((name) => [name, own[id]?.[name] ?? '']))];
      }),
    );
  }

  // Merges `{name: level}` into one logger's levels of one allocation; answers them.
  async setAllocationLoggers(
    allocId: string,
    loggerId: string,
    body: unknown,
    correlationId: string,
  ): Promise<LoggerLevels> {
    await this.assertAllocation(allocId);
    await this.setLevels(allocId, loggerId, body, correlationId);
    return (await this.query.loggers()).allocs[allocId]?.[loggerId] ?? {};
  }

  async eventDefinitions(): Promise<EventDefinitions> {
    const files = await this.query.eventRules();
    return { files, errors: [...compileRules(files).errors] };
  }

  // One events file, or an array of them. A rule of the right shape that does not compile is
  // kept, left out of the evaluation and reported in `errors`.
  async replaceEventRules(body: unknown, correlationId: string): Promise<EventDefinitions> {
    const files = Array.isArray(body)
      ? this.parse(eventRulesSchema, body, 'a rule field')
      : [this.parse(eventRulesFileSchema, body, 'a rule field')];
    await this.change(CommandPatterns.replaceEventRules, EVENT_RULES_STREAM_ID, { files }, correlationId);
    return this.eventDefinitions();
  }

  private async setLevels(
    allocId: string | null,
    loggerId: string,
    body: unknown,
    correlationId: string,
  ): Promise<void> {
    if (loggerId.length > 200)
      throw new ValidationProblem([
        { field: 'loggerID', rule: 'maxLength', message: 'loggerID: at most 200 characters' },
      ]);
    const levels = this.parse(levelsBodySchema, body, 'a logger name');
    const command = { allocId, loggerId, levels };
    await this.change(CommandPatterns.setLoggerLevels, LOGGERS_STREAM_ID, command, correlationId);
  }

  // An allocation is an instance of a service job's task group, which is a job of the core.
  private async assertAllocation(allocId: string): Promise<void> {
    const known = /^[0-9a-f-]{36}$/i.test(allocId) && (await this.jobs.findRecent(allocId)) !== null;
    if (!known) throw notFound(`allocation ${allocId}`, 'allocID');
  }

  // A bad body is a 400 naming each path (`0.logLevel`), and nothing is sent.
  private parse<T>(schema: z.ZodType<T>, body: unknown, knownAs: string): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ValidationProblem(violationsOf(parsed.error, knownAs));
    return parsed.data;
  }

  private async change(
    pattern: string,
    streamId: string,
    command: object,
    correlationId: string,
  ): Promise<void> {
    const accepted = await this.commands.send(pattern, command, { correlationId });
    await awaitVisible(
      streamId,
      this.query.waitForPosition(streamId, accepted.streamPosition, this.config.readYourWritesTimeoutMs),
    );
  }
}
