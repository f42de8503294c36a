import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { secretIdViolation } from '@spindle/contracts';
import { BODY_LIMITS, BodyLimit, RequiresScope, ValidationProblem } from '@spindle/platform';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { SecretDto, SecretPageDto, SecretWithValuesDto, WriteSecretDto } from './secret.dto';
import { SecretsClient, callerOf } from './secrets.client';
import { answerCreated } from '../resources/named-resource';

const ID_PARAM = {
  name: 'id',
  description: 'Secret id: a letter or digit, then letters, digits, "_", "." or "-" (at most 128)',
  example: 'warehouse-db',
};

// Secrets are served by the secrets service itself (over its internal routes), not by a read
// model: it is the only holder of values, and its list is read-your-writes by construction.
@ApiTags('secrets')
@RequiresScope('secrets')
@Controller('api/v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsClient) {}

  @Get()
  @ApiOperation({ summary: 'List secrets by id: ids, key names, versions and times, never values' })
  @ApiOkResponse({ type: SecretPageDto })
  async list(@Query() query: PageQueryDto): Promise<SecretPageDto> {
    const page = await this.secrets.list(query.limit, cursorAfter(query.cursor));
    return pageOf({ items: [...page.items], nextCursor: page.nextCursor }, (s) => SecretDto.from(s));
  }

  @BodyLimit(BODY_LIMITS.large)
  @Put(':id')
  @ApiOperation({
    summary: 'Write a secret: a new version of its whole map (201 for a new secret, 200 after)',
  })
  @ApiParam(ID_PARAM)
  @ApiCreatedResponse({ type: SecretDto, description: 'A new secret' })
  @ApiOkResponse({ type: SecretDto, description: 'A new version of an existing secret' })
  @ApiBadRequestResponse({ description: 'A bad id, key name, value type or size' })
  async write(
    @Param('id') id: string,
    @Body() body: WriteSecretDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretDto> {
    assertId(id);
    const { created, secret } = await this.secrets.write(id, body.values, callerOf(request));
    if (created) answerCreated(reply, '/api/v1/secrets', id);
    else void reply.status(HttpStatus.OK);
    return SecretDto.from(secret);
  }

  @Get(':id')
  @ApiOperation({ summary: "Read a secret's latest values (the read is audited)" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SecretWithValuesDto })
  @ApiNotFoundResponse({ description: 'No such secret' })
  async read(@Param('id') id: string, @Req() request: FastifyRequest): Promise<SecretWithValuesDto> {
    assertId(id);
    return SecretWithValuesDto.fromRead(await this.secrets.read(id, callerOf(request)));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a secret and destroy the values of all its versions' })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such secret' })
  async remove(@Param('id') id: string, @Req() request: FastifyRequest): Promise<void> {
    assertId(id);
    await this.secrets.remove(id, callerOf(request));
  }
}

function assertId(id: string): void {
  const violation = secretIdViolation(id);
  if (violation) throw new ValidationProblem([violation]);
}
