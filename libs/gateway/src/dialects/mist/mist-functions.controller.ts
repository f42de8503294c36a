import { Body, HttpCode, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { CONTEXT_NAME_PATTERN, CommandPatterns, FUNCTION_NAME_PATTERN } from '@spindle/contracts';
import type { FunctionDefinition } from '@spindle/contracts';
import { ArtifactsQuery, ContextsQuery, FunctionsQuery } from '@spindle/read-models';
import type { FunctionView } from '@spindle/read-models';
import { CorrelationId, RequiresScope } from '@spindle/platform';
import { CommandSender } from '../../commands/command-sender';
import { functionRows } from '../../functions/function-rows';
import { NamedResources } from '../../resources/named-resource';
import type { NamedResource } from '../../resources/named-resource';
import { functionInfo, runtimeForPath } from './mist-format';
import { MistErrorsFilter, mistBadRequest, mistNotFound } from './mist-errors.filter';
import { MIST_PREFIX, bool } from './mist-query';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';

const FUNCTION_CONFIG = {
  schema: {
    type: 'object',
    required: ['name', 'path', 'className', 'defaultContext'],
    properties: {
      name: { type: 'string', example: 'sum' },
      path: { type: 'string', description: 'An uploaded artifact', example: 'sum.py' },
      className: { type: 'string', description: 'What to call in it', example: 'sum' },
      defaultContext: { type: 'string', example: 'default' },
    },
  },
};

// Mist's functions: FunctionConfig in ({name, path, className, defaultContext}), FunctionInfo out.
// The runtime follows from the artifact's file name (.py python, .jar jvm, .js node, else exec).
@DialectController('mist: functions', MistErrorsFilter, `${MIST_PREFIX}/functions`)
export class MistFunctionsController {
  private readonly resource: NamedResource<FunctionView, FunctionView>;

  constructor(
    private readonly commands: CommandSender,
    private readonly functions: FunctionsQuery,
    private readonly artifacts: ArtifactsQuery,
    private readonly contexts: ContextsQuery,
    resources: NamedResources,
  ) {
    this.resource = functionRows(resources, functions);
  }

  @Get()
  @ReadsFrom('functions')
  @ApiOperation({ summary: 'All functions (FunctionInfo)' })
  async list(): Promise<Record<string, unknown>[]> {
    const all: FunctionView[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.functions.list(500, after);
      all.push(...page.items);
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    return all.map(functionInfo);
  }

  @Get(':id')
  @ReadsFrom('functions')
  @ApiOperation({ summary: 'One function (FunctionInfo)' })
  async get(@Param('id') id: string): Promise<Record<string, unknown>> {
    return functionInfo(await this.find(id));
  }

  @HttpCode(200)
  @RequiresScope('write')
  @Post()
  @ApiOperation({ summary: 'Create a function; an existing name is a 400 unless force=true' })
  @ApiBody(FUNCTION_CONFIG)
  @ApiQuery({ name: 'force', required: false, schema: { type: 'boolean' } })
  async create(
    @Body() body: unknown,
    @Query('force') force: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const { name, definition } = await this.functionConfig(body);
    const exists = await this.functions.findByName(name);
    if (exists && !bool(force, 'force')) throw mistBadRequest(`Endpoint ${name} already exists`);
    const pattern = exists ? CommandPatterns.changeFunction : CommandPatterns.registerFunction;
    await this.send(pattern, { name, definition }, name, correlationId);
    return functionInfo(await this.find(name));
  }

  @RequiresScope('write')
  @Put()
  @ApiOperation({ summary: 'Change a function (the body names it)' })
  @ApiBody(FUNCTION_CONFIG)
  async update(
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const { name, definition } = await this.functionConfig(body);
    if (!(await this.functions.findByName(name))) throw mistBadRequest(`Endpoint ${name} does not exist`);
    await this.send(CommandPatterns.changeFunction, { name, definition }, name, correlationId);
    return functionInfo(await this.find(name));
  }

  @RequiresScope('write')
  @Delete(':id')
  @ApiOperation({ summary: 'Delete a function; answers what it was' })
  async remove(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const fn = await this.find(id);
    await this.send(CommandPatterns.deleteFunction, { name: id }, id, correlationId);
    return functionInfo(fn);
  }

  private async find(name: string): Promise<FunctionView> {
    const fn = await this.functions.findByName(name);
    if (!fn) throw mistNotFound(`Function ${name} not found`);
    return fn;
  }

  // Answers once the read model shows the write (read your writes).
  private async send(pattern: string, body: object, name: string, correlationId: string): Promise<void> {
    await this.resource.applied(name, await this.commands.send(pattern, body, { correlationId }));
  }

  private async functionConfig(body: unknown): Promise<{ name: string; definition: FunctionDefinition }> {
    if (typeof body !== 'object' || body === null)
      throw mistBadRequest('the body must be a FunctionConfig object');
    const b = body as Record<string, unknown>;
    for (const field of ['name', 'path', 'className', 'defaultContext'])
      if (typeof b[field] !== 'string') throw mistBadRequest(`${field} is required (a string)`);
    const name = b['name'] as string;
    const path = b['path'] as string;
    const defaultContext = b['defaultContext'] as string;
    if (!FUNCTION_NAME_PATTERN.test(name))
      throw mistBadRequest('name must be letters, digits, "_", "." and "-"');
    if (!CONTEXT_NAME_PATTERN.test(defaultContext))
      throw mistBadRequest('defaultContext must be a context name');
    if (!(await this.artifacts.findByName(path))) throw mistBadRequest(`file should exists by path ${path}`);
    if (!(await this.contexts.findByName(defaultContext)))
      throw mistBadRequest(`context ${defaultContext} does not exist`);
    return {
      name,
      definition: {
        artifact: path,
        entrypoint: b['className'] as string,
        runtime: runtimeForPath(path),
        defaultContext,
        tags: [],
      },
    };
  }
}
