import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Inject,
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
import { CommandPatterns, DEFAULT_CONTEXT_NAME } from '@spindle/contracts';
import type { FunctionDefinition, SecretRef } from '@spindle/contracts';
import { RequiresScope, SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { FieldViolation, SpindleConfig } from '@spindle/platform';
import { ArtifactsQuery, ContextsQuery, FunctionsQuery } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import { ApiIfMatch, basedOn, sendVersion } from '../commands/entity-version';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import type { Accepted } from '../commands/command-sender';
import { cursorAfter, pageOf } from '../pagination.dto';
import { awaitVisible, notFound, readBack } from '../read-back';
import {
  CreateFunctionDto,
  FunctionDto,
  FunctionListQueryDto,
  FunctionPageDto,
  FunctionSettingsDto,
} from './function.dto';
import { ReadsFrom } from '../consistency/consistent-read';
import { toSecretRefs } from '../secrets/secret-ref.dto';

const NAME_PARAM = { name: 'name', description: 'Function name', example: 'sum' };

@ApiTags('functions')
@RequiresScope('read')
@Controller('api/v1/functions')
export class FunctionsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly functions: FunctionsQuery,
    private readonly artifacts: ArtifactsQuery,
    private readonly contexts: ContextsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

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
    const key = checkIdempotencyKey(idempotencyKey);
    const definition: FunctionDefinition = {
      artifact: body.artifact,
      entrypoint: body.entrypoint ?? '',
      runtime: body.runtime,
      defaultContext: body.defaultContext ?? DEFAULT_CONTEXT_NAME,
      tags: body.tags ?? [],
      retries: body.retries ?? 0,
      ...secretsOf(toSecretRefs(body.secrets ?? [])),
    };
    await this.checkReferences(definition);
    const accepted = await this.commands.send(
      CommandPatterns.registerFunction,
      { name: body.name, definition },
      key,
    );
    void reply
      .status(HttpStatus.CREATED)
      .header('location', `/api/v1/functions/${encodeURIComponent(body.name)}`);
    return this.readBack(body.name, accepted);
  }

  @Get()
  @ReadsFrom('functions')
  @ApiOperation({ summary: 'List functions by name' })
  @ApiOkResponse({ type: FunctionPageDto })
  async list(@Query() query: FunctionListQueryDto): Promise<FunctionPageDto> {
    const page = await this.functions.listTagged(query.limit, cursorAfter(query.cursor), query.tag);
    return pageOf(page, (row) => FunctionDto.from(row));
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
    const row = await this.functions.findByName(name);
    if (!row) throw notFound(`function ${name}`);
    sendVersion(reply, row.streamPosition);
    return FunctionDto.from(row);
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
    const current = await this.functions.findByName(name);
    if (!current) throw notFound(`function ${name}`);
    const expectedVersion = basedOn(current.streamPosition, ifMatch, `function ${name}`);
    const definition: FunctionDefinition = {
      artifact: body.artifact ?? current.artifact,
      entrypoint: body.entrypoint ?? current.entrypoint,
      runtime: body.runtime ?? current.runtime,
      defaultContext: body.defaultContext ?? current.defaultContext,
      tags: body.tags ?? current.tags,
      retries: body.retries ?? current.retries,
      ...secretsOf(body.secrets ? toSecretRefs(body.secrets) : (current.secrets ?? [])),
    };
    await this.checkReferences(definition);
    const accepted = await this.commands.send(CommandPatterns.changeFunction, {
      name,
      definition,
      expectedVersion,
    });
    sendVersion(reply, accepted.streamPosition);
    return this.readBack(name, accepted);
  }

  @RequiresScope('write')
  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a function' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such function' })
  async remove(@Param('name') name: string): Promise<void> {
    const accepted = await this.commands.send(CommandPatterns.deleteFunction, { name });
    await awaitVisible(
      `function ${name}`,
      this.functions.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
    );
  }

  // The artifact and context must exist. Checked against the read models, which a client's own
  // earlier uploads and creates are guaranteed to have reached.
  private async checkReferences(definition: FunctionDefinition): Promise<void> {
    const violations: FieldViolation[] = [];
    if (!(await this.artifacts.findByName(definition.artifact))) {
      violations.push({
        field: 'artifact',
        rule: 'exists',
        message: `artifact ${definition.artifact} does not exist`,
      });
    }
    if (!(await this.contexts.findByName(definition.defaultContext))) {
      violations.push({
        field: 'defaultContext',
        rule: 'exists',
        message: `context ${definition.defaultContext} does not exist`,
      });
    }
    if (violations.length > 0) throw new ValidationProblem(violations);
  }

  private readBack(name: string, accepted: Accepted): Promise<FunctionDto> {
    return readBack(
      `function ${name}`,
      this.functions.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
      async () => {
        const row = await this.functions.findByName(name);
        return row && FunctionDto.from(row);
      },
    );
  }
}

// Left out when there are none: a definition as it was before secrets existed.
function secretsOf(refs: SecretRef[]): { secrets?: SecretRef[] } {
  return refs.length > 0 ? { secrets: refs } : {};
}
