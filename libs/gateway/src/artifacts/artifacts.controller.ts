import { Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
} from '@nestjs/swagger';
import type {} from '@fastify/multipart'; // augments FastifyRequest with file()
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArtifactsQuery } from '@spindle/read-models';
import type { ArtifactView } from '@spindle/read-models';
import { PageQueryDto } from '../pagination.dto';
import { ArtifactDto, ArtifactPageDto, UploadArtifactQueryDto } from './artifact.dto';
import { ArtifactStoreClient } from './artifact-store.client';
import { ArtifactUploads } from './artifact-uploads.service';
import { ReadsFrom } from '../consistency/consistent-read';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import { DeleteRoute, GetRoute, ListRoute, ResourceController } from '../resources/resource-routes';
import type { ResourceRoutes } from '../resources/resource-routes';
import { CorrelationId, RequiresScope } from '@spindle/platform';

const ARTIFACTS: ResourceRoutes = {
  tag: 'artifacts',
  path: 'api/v1/artifacts',
  noun: 'artifact',
  key: { name: 'name', description: 'Artifact file name', example: 'wordcount.py' },
  readModel: 'artifacts',
  dto: ArtifactDto,
  pageDto: ArtifactPageDto,
};

@ResourceController(ARTIFACTS)
export class ArtifactsController {
  private readonly resource: NamedResource<ArtifactView, ArtifactDto>;

  constructor(
    private readonly uploads: ArtifactUploads,
    private readonly store: ArtifactStoreClient,
    artifacts: ArtifactsQuery,
    resources: NamedResources,
  ) {
    this.resource = resources.of({
      kind: 'artifact',
      path: `/${ARTIFACTS.path}`,
      query: artifacts,
      toDto: (row) => ArtifactDto.from(row),
    });
  }

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
    return this.resource.created(reply, row.name, row);
  }

  @ListRoute(ARTIFACTS, 'List artifacts by name')
  async list(@Query() query: PageQueryDto): Promise<ArtifactPageDto> {
    return this.resource.list(query);
  }

  @GetRoute(ARTIFACTS, 'Artifact metadata')
  async get(@Param('name') name: string): Promise<ArtifactDto> {
    return this.resource.get(name);
  }

  @Get(':name/content')
  @ReadsFrom('artifacts')
  @ApiOperation({ summary: 'Download the artifact' })
  @ApiParam(ARTIFACTS.key)
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
    const row = await this.resource.require(name);
    const stream = await this.store.open(row.sha256);
    await reply
      .header('content-type', row.contentType)
      .header('content-length', row.size)
      .header('content-disposition', `attachment; filename="${row.name}"`)
      .header('etag', `"${row.sha256}"`)
      .send(stream);
  }

  @DeleteRoute(
    ARTIFACTS,
    'Delete an artifact',
    ApiConflictResponse({ description: 'A function uses the artifact' }),
  )
  async remove(@Param('name') name: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.uploads.remove(name, correlationId);
  }
}
