import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Headers,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns, DEFAULT_CONTEXT_SETTINGS } from '@spindle/contracts';

import { ContextsQuery } from '@spindle/read-models';
import { RequiresScope, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { Inject } from '@nestjs/common';
import { CommandSender } from '../commands/command-sender';
import { ApiIfMatch, basedOn, sendVersion } from '../commands/entity-version';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import type { Accepted } from '../commands/command-sender';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { awaitVisible, notFound, readBack } from '../read-back';
import { ContextDto, ContextPageDto, ContextSettingsDto, CreateContextDto, toSettings } from './context.dto';
import { ReadsFrom } from '../consistency/consistent-read';

const NAME_PARAM = { name: 'name', description: 'Context name', example: 'default' };

@ApiTags('contexts')
@RequiresScope('read')
@Controller('api/v1/contexts')
export class ContextsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly contexts: ContextsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  @RequiresScope('write')
  @Post()
  @ApiOperation({ summary: "Create a context; settings left out take Mist's defaults" })
  @ApiCreatedResponse({ type: ContextDto })
  @ApiConflictResponse({ description: 'A context with this name exists' })
  @ApiIdempotencyKey()
  async create(
    @Body() body: CreateContextDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContextDto> {
    const { name, ...settings } = body;
    const accepted = await this.commands.send(
      CommandPatterns.createContext,
      { name, settings: toSettings(settings, DEFAULT_CONTEXT_SETTINGS) },
      checkIdempotencyKey(idempotencyKey),
    );
    void reply.status(HttpStatus.CREATED).header('location', `/api/v1/contexts/${encodeURIComponent(name)}`);
    return this.readBack(name, accepted);
  }

  @Get()
  @ReadsFrom('contexts')
  @ApiOperation({ summary: 'List contexts by name' })
  @ApiOkResponse({ type: ContextPageDto })
  async list(@Query() query: PageQueryDto): Promise<ContextPageDto> {
    const page = await this.contexts.list(query.limit, cursorAfter(query.cursor));
    return pageOf(page, (row) => ContextDto.from(row));
  }

  @Get(':name')
  @ReadsFrom('contexts')
  @ApiOperation({ summary: 'Get a context' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ContextDto })
  @ApiNotFoundResponse({ description: 'No such context' })
  async get(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContextDto> {
    const row = await this.contexts.findByName(name);
    if (!row) throw notFound(`context ${name}`);
    sendVersion(reply, row.streamPosition);
    return ContextDto.from(row);
  }

  @RequiresScope('write')
  @Put(':name')
  @ApiOperation({ summary: "Replace a context's settings; settings left out keep their current value" })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ContextDto })
  @ApiNotFoundResponse({ description: 'No such context' })
  @ApiIfMatch()
  async update(
    @Param('name') name: string,
    @Body() body: ContextSettingsDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContextDto> {
    const current = await this.contexts.findByName(name);
    if (!current) throw notFound(`context ${name}`);
    const accepted = await this.commands.send(CommandPatterns.updateContext, {
      name,
      settings: toSettings(body, current.settings),
      expectedVersion: basedOn(current.streamPosition, ifMatch, `context ${name}`),
    });
    sendVersion(reply, accepted.streamPosition);
    return this.readBack(name, accepted);
  }

  @RequiresScope('write')
  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a context (never `default`)' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such context' })
  @ApiForbiddenResponse({ description: 'The default context cannot be deleted' })
  async remove(@Param('name') name: string): Promise<void> {
    const accepted = await this.commands.send(CommandPatterns.deleteContext, { name });
    await awaitVisible(
      `context ${name}`,
      this.contexts.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
    );
  }

  private readBack(name: string, accepted: Accepted): Promise<ContextDto> {
    return readBack(
      `context ${name}`,
      this.contexts.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
      async () => {
        const row = await this.contexts.findByName(name);
        return row && ContextDto.from(row);
      },
    );
  }
}
