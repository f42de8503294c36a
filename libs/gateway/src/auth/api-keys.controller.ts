import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { API_KEY_ID_PATTERN } from '@spindle/contracts';
import { CorrelationId, RequiresScope, ValidationProblem } from '@spindle/platform';
import { ApiKeysQuery } from '@spindle/read-models';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { ReadsFrom } from '../consistency/consistent-read';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { notFound } from '../read-back';
import { ApiKeyDto, ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-key.dto';
import { ApiKeys } from './api-keys.service';

const ID_PARAM = {
  name: 'id',
  description: 'Key id (the part after `spindle_`)',
  example: '0123456789abcdef',
};

@ApiTags('keys')
@RequiresScope('admin')
@Controller('api/v1/keys')
export class ApiKeysController {
  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly keys: ApiKeysQuery,
  ) {}

  @Post()
  @ApiIdempotencyKey()
  @ApiOperation({ summary: 'Create an API key with scopes; the key is in this answer only' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  async create(
    @Body() body: CreateApiKeyDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedApiKeyDto> {
    const issued = { correlationId, idempotencyKey: checkIdempotencyKey(idempotencyKey) };
    const created = await this.apiKeys.create(body, issued);
    void reply.status(HttpStatus.CREATED).header('location', `/api/v1/keys/${created.id}`);
    return created;
  }

  @Get()
  @ReadsFrom('apiKeys')
  @ApiOperation({ summary: 'List API keys by id (never the keys themselves)' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  async list(@Query() query: PageQueryDto): Promise<ApiKeyPageDto> {
    return pageOf(await this.keys.list(query.limit, cursorAfter(query.cursor)), (row) => ApiKeyDto.from(row));
  }

  @Get(':id')
  @ReadsFrom('apiKeys')
  @ApiOperation({ summary: 'Get an API key' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'No such key' })
  async get(@Param('id') id: string): Promise<ApiKeyDto> {
    const row = await this.keys.findById(checkedId(id));
    if (!row) throw notFound(`key ${id}`);
    return ApiKeyDto.from(row);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke an API key: it stops working once this answers' })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiNotFoundResponse({ description: 'No such key' })
  async revoke(@Param('id') id: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.apiKeys.revoke(checkedId(id), correlationId);
  }
}

function checkedId(id: string): string {
  if (!API_KEY_ID_PATTERN.test(id))
    throw new ValidationProblem([
      { field: 'id', rule: 'isKeyId', message: 'id must be 16 hexadecimal digits' },
    ]);
  return id;
}
