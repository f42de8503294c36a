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
import { CommandPatterns } from '@spindle/contracts';
import { ContextsQuery } from '@spindle/read-models';
import { RequiresScope } from '@spindle/platform';
import type { ContextView } from '@spindle/read-models';
import { ApiIfMatch } from '../commands/entity-version';
import { ApiIdempotencyKey, IdempotencyKeyHeader } from '../commands/idempotency-key';
import { PageQueryDto, cursorAfter } from '../pagination.dto';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import {
  ContextDto,
  ContextPageDto,
  ContextSettingsDto,
  CreateContextDto,
  settingsToSet,
} from './context.dto';
import { ReadsFrom } from '../consistency/consistent-read';

const NAME_PARAM = { name: 'name', description: 'Context name', example: 'default' };

@ApiTags('contexts')
@RequiresScope('read')
@Controller('api/v1/contexts')
export class ContextsController {
  private readonly resource: NamedResource<ContextView, ContextDto>;

  constructor(
    resources: NamedResources,
    private readonly contexts: ContextsQuery,
  ) {
    this.resource = resources.of({
      kind: 'context',
      path: '/api/v1/contexts',
      query: contexts,
      toDto: (row) => ContextDto.from(row),
    });
  }

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
    return this.resource.create(
      CommandPatterns.createContext,
      name,
      { name, settings: settingsToSet(settings) },
      idempotencyKey,
      reply,
    );
  }

  @Get()
  @ReadsFrom('contexts')
  @ApiOperation({ summary: 'List contexts by name' })
  @ApiOkResponse({ type: ContextPageDto })
  async list(@Query() query: PageQueryDto): Promise<ContextPageDto> {
    return this.resource.list(this.contexts.list(query.limit, cursorAfter(query.cursor)));
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
    return this.resource.get(name, reply);
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
    return this.resource.update(
      CommandPatterns.updateContext,
      name,
      { settings: settingsToSet(body) },
      ifMatch,
      reply,
    );
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
    await this.resource.remove(CommandPatterns.deleteContext, name);
  }
}
