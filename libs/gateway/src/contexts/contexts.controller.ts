import { Body, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns } from '@spindle/contracts';
import { ContextsQuery } from '@spindle/read-models';
import type { ContextView } from '@spindle/read-models';
import { CorrelationId } from '@spindle/platform';
import { IdempotencyKeyHeader } from '../commands/idempotency-key';
import { PageQueryDto } from '../pagination.dto';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import {
  CreateRoute,
  DeleteRoute,
  GetRoute,
  ListRoute,
  ResourceController,
  UpdateRoute,
} from '../resources/resource-routes';
import type { ResourceRoutes } from '../resources/resource-routes';
import {
  ContextDto,
  ContextPageDto,
  ContextSettingsDto,
  CreateContextDto,
  settingsToSet,
} from './context.dto';

const CONTEXTS: ResourceRoutes = {
  tag: 'contexts',
  path: 'api/v1/contexts',
  noun: 'context',
  key: { name: 'name', description: 'Context name', example: 'default' },
  readModel: 'contexts',
  dto: ContextDto,
  pageDto: ContextPageDto,
};

@ResourceController(CONTEXTS)
export class ContextsController {
  private readonly resource: NamedResource<ContextView, ContextDto>;

  constructor(resources: NamedResources, contexts: ContextsQuery) {
    this.resource = resources.of({
      kind: 'context',
      path: `/${CONTEXTS.path}`,
      query: contexts,
      toDto: (row) => ContextDto.from(row),
    });
  }

  @CreateRoute(CONTEXTS, { summary: "Create a context; settings left out take Mist's defaults" })
  async create(
    @Body() body: CreateContextDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContextDto> {
    const { name, ...settings } = body;
    return this.resource.create(
      CommandPatterns.createContext,
      name,
      { name, settings: settingsToSet(settings) },
      correlationId,
      idempotencyKey,
      reply,
    );
  }

  @ListRoute(CONTEXTS, 'List contexts by name')
  async list(@Query() query: PageQueryDto): Promise<ContextPageDto> {
    return this.resource.list(query);
  }

  @GetRoute(CONTEXTS, 'Get a context')
  async get(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContextDto> {
    return this.resource.get(name, reply);
  }

  @UpdateRoute(CONTEXTS, "Replace a context's settings; settings left out keep their current value")
  async update(
    @Param('name') name: string,
    @Body() body: ContextSettingsDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContextDto> {
    return this.resource.update(
      CommandPatterns.updateContext,
      name,
      { settings: settingsToSet(body) },
      correlationId,
      ifMatch,
      reply,
    );
  }

  @DeleteRoute(
    CONTEXTS,
    'Delete a context (never `default`)',
    ApiForbiddenResponse({ description: 'The default context cannot be deleted' }),
  )
  async remove(@Param('name') name: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.resource.remove(CommandPatterns.deleteContext, name, correlationId);
  }
}
