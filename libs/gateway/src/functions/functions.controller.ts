import { Body, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns, namedFields } from '@spindle/contracts';
import { FunctionsQuery } from '@spindle/read-models';
import type { FunctionView } from '@spindle/read-models';
import { CorrelationId } from '@spindle/platform';
import { IdempotencyKeyHeader } from '../commands/idempotency-key';
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
  CreateFunctionDto,
  FunctionDto,
  FunctionListQueryDto,
  FunctionPageDto,
  FunctionSettingsDto,
} from './function.dto';
import { FunctionReferences } from './function-references';
import { toSecretRefs } from '../secrets/secret-ref.dto';

const FUNCTIONS: ResourceRoutes = {
  tag: 'functions',
  path: 'api/v1/functions',
  noun: 'function',
  key: { name: 'name', description: 'Function name', example: 'sum' },
  readModel: 'functions',
  dto: FunctionDto,
  pageDto: FunctionPageDto,
};

@ResourceController(FUNCTIONS)
export class FunctionsController {
  private readonly resource: NamedResource<FunctionView, FunctionDto>;

  constructor(
    resources: NamedResources,
    private readonly functions: FunctionsQuery,
    private readonly references: FunctionReferences,
  ) {
    this.resource = resources.of({
      kind: 'function',
      path: `/${FUNCTIONS.path}`,
      query: functions,
      toDto: (row) => FunctionDto.from(row),
    });
  }

  @CreateRoute(
    FUNCTIONS,
    { summary: 'Register a function: an artifact, what to call in it, and how to run it' },
    ApiBadRequestResponse({ description: 'A field is invalid, or the artifact or context does not exist' }),
  )
  async create(
    @Body() body: CreateFunctionDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FunctionDto> {
    const { name, ...settings } = body;
    const definition = { ...definitionToSet(settings), artifact: body.artifact, runtime: body.runtime };
    await this.references.check(definition);
    return this.resource.create(
      CommandPatterns.registerFunction,
      name,
      { name, definition },
      correlationId,
      idempotencyKey,
      reply,
    );
  }

  @ListRoute(FUNCTIONS, 'List functions by name')
  async list(@Query() query: FunctionListQueryDto): Promise<FunctionPageDto> {
    return this.resource.list(query, (limit, after) => this.functions.listTagged(limit, after, query.tag));
  }

  @GetRoute(FUNCTIONS, 'Get a function')
  async get(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FunctionDto> {
    return this.resource.get(name, reply);
  }

  @UpdateRoute(FUNCTIONS, 'Change a function; settings left out keep their value')
  async update(
    @Param('name') name: string,
    @Body() body: FunctionSettingsDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FunctionDto> {
    const definition = definitionToSet(body);
    await this.references.check(definition);
    const change = { definition };
    return this.resource.update(CommandPatterns.changeFunction, name, change, correlationId, ifMatch, reply);
  }

  @DeleteRoute(FUNCTIONS, 'Delete a function')
  async remove(@Param('name') name: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.resource.remove(CommandPatterns.deleteFunction, name, correlationId);
  }
}

// What a request names of a definition; the scheduler fills the rest (defaults on a register, the
// current values on a change). Secrets and libraries named as none remove them.
function definitionToSet(dto: FunctionSettingsDto) {
  return namedFields({
    artifact: dto.artifact,
    entrypoint: dto.entrypoint,
    runtime: dto.runtime,
    defaultContext: dto.defaultContext,
    tags: dto.tags,
    retries: dto.retries,
    secrets: dto.secrets && toSecretRefs(dto.secrets),
    libraries: dto.libraries?.map((l) => (l.fileName === undefined ? { artifact: l.artifact } : { ...l })),
  });
}
