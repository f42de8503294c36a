import { Body, Delete, Get, HttpCode, HttpStatus, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOperation } from '@nestjs/swagger';
import {
  CONTEXT_NAME_PATTERN,
  CommandPatterns,
  DEFAULT_CONTEXT_NAME,
  WORKER_MODES,
} from '@spindle/contracts';
import type { ContextSettings, WorkerMode } from '@spindle/contracts';
import { CorrelationId, RequiresScope } from '@spindle/platform';
import { ContextsQuery } from '@spindle/read-models';
import type { ContextView } from '@spindle/read-models';
import { CommandSender } from '../../commands/command-sender';
import { NamedResources } from '../../resources/named-resource';
import type { NamedResource } from '../../resources/named-resource';
import { contextOf, parseMistBodyDuration } from './mist-format';
import { MistErrorsFilter, mistBadRequest, mistNotFound } from './mist-errors.filter';
import { DialectError } from '../json-errors.filter';
import { MIST_PREFIX } from './mist-query';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';

const CONTEXT_CONFIG = {
  schema: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', example: 'etl' },
      sparkConf: { type: 'object', additionalProperties: { type: 'string' } },
      downtime: { type: 'string', example: '3600s', description: '"<seconds>s" or "Inf"' },
      maxJobs: { type: 'integer', example: 1 },
      workerMode: { type: 'string', enum: [...WORKER_MODES] },
      precreated: { type: 'boolean' },
      runOptions: { type: 'string' },
      streamingDuration: { type: 'string', example: '1s' },
      maxConnFailures: { type: 'integer', example: 5 },
    },
  },
};

// Mist's contexts: `default` is always listed and can be neither created, changed nor deleted; a
// POST on an existing name overwrites it; fields left out come from `default`.
@DialectController('mist: contexts', MistErrorsFilter, `${MIST_PREFIX}/contexts`)
export class MistContextsController {
  private readonly resource: NamedResource<ContextView, ContextView>;

  constructor(
    private readonly commands: CommandSender,
    private readonly contexts: ContextsQuery,
    resources: NamedResources,
  ) {
    this.resource = resources.of({
      kind: 'context',
      path: '/api/v1/contexts',
      query: contexts,
      toDto: (row) => row,
    });
  }

  @Get()
  @ReadsFrom('contexts')
  @ApiOperation({ summary: 'All contexts, `default` included (ContextConfig)' })
  async list(): Promise<Record<string, unknown>[]> {
    const all: ContextView[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.contexts.list(500, after);
      all.push(...page.items);
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    return all.map(contextOf);
  }

  @Get(':id')
  @ReadsFrom('contexts')
  @ApiOperation({ summary: 'One context (ContextConfig)' })
  async get(@Param('id') id: string): Promise<Record<string, unknown>> {
    return contextOf(await this.find(id));
  }

  @HttpCode(200)
  @RequiresScope('write')
  @Post()
  @ApiOperation({ summary: 'Create a context, or overwrite one of that name' })
  @ApiBody(CONTEXT_CONFIG)
  async create(
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const b = object(body);
    const name = nameOf(b);
    const existing = await this.contexts.findByName(name);
    const settings = settingsOf(b, (await this.find(DEFAULT_CONTEXT_NAME)).settings);
    await this.write(
      existing ? CommandPatterns.updateContext : CommandPatterns.createContext,
      name,
      settings,
      correlationId,
    );
    return contextOf(await this.find(name));
  }

  @RequiresScope('write')
  @Put(':id')
  @ApiOperation({ summary: 'Change a context (full ContextConfig)' })
  @ApiBody(CONTEXT_CONFIG)
  async update(
    @Param('id') id: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    if (id === DEFAULT_CONTEXT_NAME) throw defaultIsFixed();
    const current = await this.contexts.findByName(id);
    if (!current) throw mistNotFound(`Context with name ${id} not found`);
    const b = object(body);
    const name = nameOf(b);
    if (name !== id) throw mistBadRequest(`the body names context ${name}, the path ${id}`);
    await this.write(CommandPatterns.updateContext, name, settingsOf(b, current.settings), correlationId);
    return contextOf(await this.find(name));
  }

  @RequiresScope('write')
  @Delete(':id')
  @ApiOperation({ summary: 'Delete a context; answers what it was' })
  async remove(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    if (id === DEFAULT_CONTEXT_NAME) throw mistNotFound(`Context with name ${id} not found`);
    const current = await this.find(id);
    await this.resource.remove(CommandPatterns.deleteContext, id, correlationId);
    return contextOf(current);
  }

  private async find(name: string): Promise<ContextView> {
    const row = await this.contexts.findByName(name);
    if (!row) throw mistNotFound(`Context with name ${name} not found`);
    return row;
  }

  private async write(
    pattern: string,
    name: string,
    settings: ContextSettings,
    correlationId: string,
  ): Promise<void> {
    await this.resource.applied(
      name,
      await this.commands.send(pattern, { name, settings }, { correlationId }),
    );
  }
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw mistBadRequest('the body must be a ContextConfig object');
  return body as Record<string, unknown>;
}

function nameOf(b: Record<string, unknown>): string {
  const name = b['name'];
  if (typeof name !== 'string' || !CONTEXT_NAME_PATTERN.test(name))
    throw mistBadRequest('name is required: letters, digits, "_", "." and "-"');
  if (name === DEFAULT_CONTEXT_NAME) throw defaultIsFixed();
  return name;
}

// Mist's own words, without the "Bad request: " prefix, for a POST or PUT of `default` alike.
function defaultIsFixed(): DialectError {
  return new DialectError(
    HttpStatus.BAD_REQUEST,
    `Can not create context with name:"${DEFAULT_CONTEXT_NAME}"`,
  );
}

// Mist's body fields over the given settings; durations only as "<seconds>s" or "Inf", like Mist.
function settingsOf(b: Record<string, unknown>, base: ContextSettings): ContextSettings {
  const duration = (field: string, fallback: number | null): number | null => {
    if (b[field] === undefined) return fallback;
    const ms = parseMistBodyDuration(b[field]);
    if (ms === undefined) throw mistBadRequest(`${field} must be "<seconds>s" or "Inf"`);
    return ms;
  };
  const int = (field: string, fallback: number, min: number): number => {
    const v = b[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw mistBadRequest(`${field} must be an integer >= ${min}`);
    return v;
  };
  const sparkConf = b['sparkConf'];
  if (
    sparkConf !== undefined &&
    (typeof sparkConf !== 'object' ||
      sparkConf === null ||
      Object.values(sparkConf).some((v) => typeof v !== 'string'))
  )
    throw mistBadRequest('sparkConf must map keys to strings');
  const workerMode = b['workerMode'];
  if (workerMode !== undefined && !(WORKER_MODES as readonly unknown[]).includes(workerMode))
    throw mistBadRequest('workerMode must be shared or exclusive');
  if (b['precreated'] !== undefined && typeof b['precreated'] !== 'boolean')
    throw mistBadRequest('precreated must be a boolean');
  if (b['runOptions'] !== undefined && typeof b['runOptions'] !== 'string')
    throw mistBadRequest('runOptions must be a string');
  return {
    config: (sparkConf as Record<string, string> | undefined) ?? base.config,
    downtimeMs: duration('downtime', base.downtimeMs),
    maxJobs: int('maxJobs', base.maxJobs, 1),
    workerMode: (workerMode as WorkerMode | undefined) ?? base.workerMode,
    precreated: b['precreated'] ?? base.precreated,
    runOptions: b['runOptions'] ?? base.runOptions,
    streamingDurationMs: duration('streamingDuration', base.streamingDurationMs),
    maxConnFailures: int('maxConnFailures', base.maxConnFailures, 0),
  };
}
