import { Body, Delete, Get, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { secretIdViolation } from '@spindle/contracts';
import { BODY_LIMITS, BodyLimit } from '@spindle/platform';
import { MAX_PAGE_SIZE } from '../../pagination.dto';
import { secretMapProblem } from '../../secrets/secret.dto';
import { SecretsClient, callerOf } from '../../secrets/secrets.client';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidBadRequest } from './genvid-errors.filter';

const MAP_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string' },
  example: { GENVID_COMMAND_SECRET: 'anothersecret', akey: 'avalue' },
} as const;
const ID_PARAM = { name: 'id', description: 'The secret id', example: 'command' };

// Genvid's secrets: a thin mapping onto the secrets service (the same client as the native
// routes), so there is one store. A secret is a map of keys to strings; POST replaces the whole map.
@DialectController('genvid: secrets', GenvidErrorsFilter, GENVID_PREFIX, 'secrets')
export class GenvidSecretsController {
  constructor(private readonly secrets: SecretsClient) {}

  @Get('v1/secrets/list')
  @ApiOperation({ summary: 'Get the list of secret keys (ids, never values)' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { keys: { type: 'array', items: { type: 'string' } } } },
  })
  async list(): Promise<{ keys: string[] }> {
    const keys: string[] = [];
    let after: string | null = null;
    do {
      const page = await this.secrets.list(MAX_PAGE_SIZE, after);
      keys.push(...page.items.map((s) => s.id));
      after = page.nextCursor === null ? null : (page.items.at(-1)?.id ?? null);
    } while (after !== null);
    return { keys };
  }

  @Get('secrets/secret/:id')
  @ApiOperation({ summary: 'Get a secret: its map of keys to values (the read is audited)' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ schema: MAP_SCHEMA })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no such secret' })
  async read(@Param('id') id: string, @Req() request: FastifyRequest): Promise<Record<string, string>> {
    assertId(id);
    return { ...(await this.secrets.read(id, callerOf(request))).values };
  }

  @BodyLimit(BODY_LIMITS.large)
  @Post('secrets/secret/:id')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Create or update a secret: the body replaces its whole map; answers `{}`' })
  @ApiParam(ID_PARAM)
  @ApiBody({ schema: MAP_SCHEMA })
  @ApiOkResponse({ schema: { type: 'object', example: {} } })
  @ApiBadRequestResponse({ description: '`{"error": "..."}`: a bad id, key name, value type or size' })
  async write(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<Record<string, never>> {
    assertId(id);
    const problem = secretMapProblem(body);
    if (problem) throw genvidBadRequest(problem);
    await this.secrets.write(id, body as Record<string, string>, callerOf(request));
    return {};
  }

  @Delete('secrets/secret/:id')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Delete a secret and destroy the values of all its versions; answers `{}`' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ schema: { type: 'object', example: {} } })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no such secret' })
  async remove(@Param('id') id: string, @Req() request: FastifyRequest): Promise<Record<string, never>> {
    assertId(id);
    await this.secrets.remove(id, callerOf(request));
    return {};
  }
}

function assertId(id: string): void {
  const violation = secretIdViolation(id);
  if (violation) throw genvidBadRequest(`secret ${violation.message}`);
}
