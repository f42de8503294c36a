import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns, namedFields } from '@spindle/contracts';
import { FunctionsQuery } from '@spindle/read-models';
import type { FunctionView } from '@spindle/read-models';
import { ApiIfMatch } from '../commands/entity-version';
import { ApiIdempotencyKey, IdempotencyKeyHeader } from '../commands/idempotency-key';
import { cursorAfter } from '../pagination.dto';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import { RequiresScope } from '@spindle/platform';
import {
  CreateFunctionDto,
  FunctionDto,
  FunctionListQueryDto,
  FunctionPageDto,
  FunctionSettingsDto,
} from './function.dto';
import { FunctionReferences } from './function-references';
import { ReadsFrom } from '../consistency/consistent-read';
import { toSecretRefs } from '../secrets/secret-ref.dto';

const NAME_PARAM = { name: 'name', description: 'Function name', example: 'sum' };

@ApiTags('functions')
@RequiresScope('read')
@Controller('api/v1/functions')
export class FunctionsController {
  private readonly resource: NamedResource<FunctionView, FunctionDto>;

  constructor(
    resources: NamedResources,
    private readonly functions: FunctionsQuery,
    private readonly references: FunctionReferences,
  ) {
    this.resource = resources.of({
      kind: 'function',
      path: '/api/v1/functions',
      query: functions,
      toDto: (row) => FunctionDto.from(row),
    });
  }

  @RequiresScope('write')
  @Post()
  @ApiOperation({ summary: 'Register a function: an artifact, what to call in it, and how to run it' })
  @ApiCreatedResponse({ type: FunctionDto })
  @ApiBadRequestResponse({ description: 'A field is invalid, or the artifact or context does not exist' })
  @ApiConflictResponse({ description: 'A function with this name exists' })
  @ApiIdempotencyKey()
  async create(
    @Body() body: CreateFunctionDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FunctionDto> {
    const { name, ...settings } = body;
    const definition = { ...definitionToSet(settings), artifact: body.artifact, runtime: body.runtime };
    await this.references.check(definition);
    return this.resource.create(
      CommandPatterns.registerFunction,
      name,
      { name, definition },
      idempotencyKey,
      reply,
    );
  }

  @Get()
  @ReadsFrom('functions')
  @ApiOperation({ summary: 'List functions by name' })
  @ApiOkResponse({ type: FunctionPageDto })
  async list(@Query() query: FunctionListQueryDto): Promise<FunctionPageDto> {
    return this.resource.list(this.functions.listTagged(query.limit, cursorAfter(query.cursor), query.tag));
  }

  @Get(':name')
  @ReadsFrom('functions')
  @ApiOperation({ summary: 'Get a function' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: FunctionDto })
  @ApiNotFoundResponse({ description: 'No such function' })
  async get(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FunctionDto> {
    return this.resource.get(name, reply);
  }

  @RequiresScope('write')
  @Put(':name')
  @ApiOperation({ summary: 'Change a function; settings left out keep their value' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: FunctionDto })
  @ApiNotFoundResponse({ description: 'No such function' })
  @ApiIfMatch()
  async update(
    @Param('name') name: string,
    @Body() body: FunctionSettingsDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FunctionDto> {
    const definition = definitionToSet(body);
    await this.references.check(definition);
    return this.resource.update(CommandPatterns.changeFunction, name, { definition }, ifMatch, reply);
  }

  @RequiresScope('write')
  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a function' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such function' })
  async remove(@Param('name') name: string): Promise<void> {
    await this.resource.remove(CommandPatterns.deleteFunction, name);
  }
}

// What a request names of a definition; the scheduler fills the rest (defaults on a register, the
// current values on a change). Secrets named as none remove them.
function definitionToSet(dto: FunctionSettingsDto) {
  return namedFields({
    artifact: dto.artifact,
    entrypoint: dto.entrypoint,
    runtime: dto.runtime,
    defaultContext: dto.defaultContext,
    tags: dto.tags,
    retries: dto.retries,
    secrets: dto.secrets && toSecretRefs(dto.secrets),
  });
}
