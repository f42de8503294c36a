import { CorrelationId, RequiresScope } from '@spindle/platform';
import { Delete, Get, HttpCode, HttpStatus, Param, Put, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArtifactsQuery } from '@spindle/read-models';
import { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import { APOLLO_PREFIX, apolloArtifactOf } from './apollo-format';
import type { ApolloArtifact } from './apollo-format';
import { ApolloErrorsFilter, apolloEmptyNotFound } from './apollo-errors.filter';

const ARTIFACT_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', example: 'mapper' },
    type: { type: 'string', enum: ['executable'] },
    size: { type: 'integer', example: 1024 },
    hash: { type: 'string', description: 'sha256 of the content, hex' },
  },
};

// Apollo's artifacts are Spindle's: the native API lists and serves the same ones.
@DialectController('apollo: artifacts', ApolloErrorsFilter, `${APOLLO_PREFIX}/artifacts`)
export class ApolloArtifactsController {
  constructor(
    private readonly uploads: ArtifactUploads,
    private readonly artifacts: ArtifactsQuery,
  ) {}

  @Get()
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'Every artifact' })
  @ApiOkResponse({ schema: { type: 'array', items: ARTIFACT_SCHEMA } })
  async list(): Promise<ApolloArtifact[]> {
    const all: ApolloArtifact[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.artifacts.list(500, after);
      all.push(...page.items.map(apolloArtifactOf));
      if (!page.nextCursor) return all;
      after = page.nextCursor;
    }
  }

  @RequiresScope('write')
  @Put()
  @ApiOperation({
    summary: 'Upload a program (multipart field `program`), stored under its upload file name',
    description:
      'The same name and content answer the existing record; different content replaces it. 200, as the ' +
      'coordinator answers (not 201).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['program'],
      properties: { program: { type: 'string', format: 'binary' } },
    },
  })
  @ApiOkResponse({ schema: ARTIFACT_SCHEMA })
  async upload(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const row = await this.uploads.receive(request, reply, true, 'program');
    void reply.status(HttpStatus.OK);
    return apolloArtifactOf(row);
  }

  @Get(':name')
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: "An artifact's metadata; 404 with an empty body when unknown" })
  @ApiOkResponse({ schema: ARTIFACT_SCHEMA })
  @ApiNotFoundResponse({ description: 'No such artifact (empty body)' })
  async get(@Param('name') name: string): Promise<ApolloArtifact> {
    const row = await this.artifacts.findByName(name);
    if (!row) throw apolloEmptyNotFound();
    return apolloArtifactOf(row);
  }

  @RequiresScope('write')
  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete an artifact; 409 while something uses it' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such artifact (empty body)' })
  @ApiConflictResponse({ description: 'A running job or a function uses it (text/plain)' })
  async remove(@Param('name') name: string, @CorrelationId() correlationId: string): Promise<void> {
    if (!(await this.artifacts.findByName(name))) throw apolloEmptyNotFound();
    await this.uploads.remove(name, correlationId);
  }
}
