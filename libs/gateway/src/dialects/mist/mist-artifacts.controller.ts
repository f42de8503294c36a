import { Delete, Get, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CorrelationId, ProblemException, RequiresScope } from '@spindle/platform';
import { ArtifactsQuery } from '@spindle/read-models';
import type { ArtifactView } from '@spindle/read-models';
import { ArtifactStoreClient } from '../../artifacts/artifact-store.client';
import { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { MistErrorsFilter, mistNotFound } from './mist-errors.filter';
import { DialectError } from '../json-errors.filter';
import { MIST_PREFIX, bool } from './mist-query';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';

// Mist's artifacts: a flat store of files by name; uploads answer the name as text.
@DialectController('mist: artifacts', MistErrorsFilter, `${MIST_PREFIX}/artifacts`)
export class MistArtifactsController {
  constructor(
    private readonly uploads: ArtifactUploads,
    private readonly artifacts: ArtifactsQuery,
    private readonly store: ArtifactStoreClient,
  ) {}

  @Get()
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'Names of all artifacts' })
  async list(): Promise<string[]> {
    const names: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.artifacts.list(500, after);
      names.push(...page.items.map((a) => a.name));
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    return names;
  }

  @Get(':name')
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'Download an artifact' })
  async content(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    const row = await this.find(name);
    void reply.header('content-type', 'application/octet-stream').send(await this.store.open(row.sha256));
  }

  @Get(':name/sha')
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'SHA-1 of an artifact, hex' })
  async sha(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    void reply.header('content-type', 'text/plain; charset=utf-8').send((await this.find(name)).sha1);
  }

  @RequiresScope('write')
  @Post()
  @ApiOperation({ summary: 'Upload (multipart `file`); 409 on a taken name unless force=true' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiQuery({ name: 'force', required: false, schema: { type: 'boolean' } })
  async upload(
    @Query('force') force: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    let row: ArtifactView;
    try {
      row = await this.uploads.receive(request, reply, bool(force, 'force'));
    } catch (e) {
      if (e instanceof ProblemException && e.getStatus() === (HttpStatus.CONFLICT as number)) {
        const name = /artifact (\S+)/.exec(e.message)?.[1] ?? 'the file';
        throw new DialectError(HttpStatus.CONFLICT, `Filename must be unique: found ${name} in repository`);
      }
      throw e;
    }
    void reply.status(200).header('content-type', 'text/plain; charset=utf-8').send(row.name);
  }

  @RequiresScope('write')
  @Delete(':name')
  @ApiOperation({ summary: 'Delete an artifact; answers its name' })
  async remove(
    @Param('name') name: string,
    @CorrelationId() correlationId: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.find(name);
    await this.uploads.remove(name, correlationId);
    void reply.header('content-type', 'text/plain; charset=utf-8').send(name);
  }

  private async find(name: string): Promise<ArtifactView> {
    const row = await this.artifacts.findByName(name);
    if (!row) throw mistNotFound(`No file found by name ${name}`);
    return row;
  }
}
