import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import type {} from '@fastify/multipart'; // augments FastifyRequest with file()
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArtifactsQuery } from '@spindle/read-models';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { ArtifactDto, ArtifactPageDto, UploadArtifactQueryDto } from './artifact.dto';
import { ArtifactStoreClient } from './artifact-store.client';
import { ArtifactUploads } from './artifact-uploads.service';
import { ReadsFrom } from '../consistency/consistent-read';
import { answerCreated } from '../resources/named-resource';
import { RequiresScope } from '@spindle/platform';

const NAME_PARAM = { name: 'name', description: 'Artifact file name', example: 'wordcount.py' };

@ApiTags('artifacts')
@RequiresScope('read')
@Controller('api/v1/artifacts')
export class ArtifactsController {
  constructor(
    private readonly uploads: ArtifactUploads,
    private readonly store: ArtifactStoreClient,
    private readonly artifacts: ArtifactsQuery,
  ) {}

  @RequiresScope('write')
  @Post()
  @ApiOperation({
    summary: 'Upload a program (multipart field `file`); its file name becomes the artifact name',
    description: 'Streamed to disk, never buffered. Limit: ARTIFACT_MAX_BYTES (default 256 MiB) -> 413.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: {
          type: 'string',
          format: 'binary',
          description: 'The program; its file name (a plain name: no "/", "\\" or "..") names the artifact',
          example: 'exports.sum = (args) => args.a + args.b;\n',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: ArtifactDto })
  @ApiConflictResponse({ description: 'An artifact with this name exists (use force=true to replace it)' })
  @ApiPayloadTooLargeResponse({ description: 'The file is larger than the limit' })
  async upload(
    @Query() query: UploadArtifactQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ArtifactDto> {
    const row = await this.uploads.receive(request, reply, query.force ?? false);
    answerCreated(reply, '/api/v1/artifacts', row.name);
    return ArtifactDto.from(row);
  }
  @Get()
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'List artifacts by name' })
  @ApiOkResponse({ type: ArtifactPageDto })
  async list(@Query() query: PageQueryDto): Promise<ArtifactPageDto> {
    const page = await this.artifacts.list(query.limit, cursorAfter(query.cursor));
    return pageOf(page, (row) => ArtifactDto.from(row));
  }

  @Get(':name')
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'Artifact metadata' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ArtifactDto })
  @ApiNotFoundResponse({ description: 'No such artifact' })
  async get(@Param('name') name: string): Promise<ArtifactDto> {
    return ArtifactDto.from(await this.require(name));
  }

  @Get(':name/content')
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'Download the artifact' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({
    description: 'The content, with the content type it was uploaded with (application/octet-stream here)',
    content: {
      'application/octet-stream': {
        schema: { type: 'string', format: 'binary' },
        example: 'exports.sum = (args) => args.a + args.b;\n',
      },
    },
  })
  @ApiNotFoundResponse({ description: 'No such artifact' })
  async content(@Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    const row = await this.require(name);
    const stream = await this.store.open(row.sha256);
    await reply
      .header('content-type', row.contentType)
      .header('content-length', row.size)
      .header('content-disposition', `attachment; filename="${row.name}"`)
      .header('etag', `"${row.sha256}"`)
      .send(stream);
  }

  @RequiresScope('write')
  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete an artifact' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such artifact' })
  @ApiConflictResponse({ description: 'A function uses the artifact' })
  async remove(@Param('name') name: string): Promise<void> {
    await this.uploads.remove(name);
  }

  private require(name: string) {
    return this.uploads.require(name);
  }
}
