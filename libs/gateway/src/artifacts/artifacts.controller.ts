import {
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
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
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type {} from '@fastify/multipart'; // augments FastifyRequest with file()
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ARTIFACT_NAME_PATTERN } from '@spindle/contracts';
import { ProblemException, SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactsQuery, FunctionsQuery } from '@spindle/read-models';
import { awaitVisible, notFound, readBack } from '../read-back';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { ArtifactDto, ArtifactPageDto, UploadArtifactQueryDto } from './artifact.dto';
import { ArtifactStoreClient } from './artifact-store.client';
import type { Accepted } from './artifact-store.client';

const NAME_PARAM = { name: 'name', description: 'Artifact file name', example: 'wordcount.py' };

@ApiTags('artifacts')
@Controller('api/v1/artifacts')
export class ArtifactsController {
  constructor(
    private readonly store: ArtifactStoreClient,
    private readonly artifacts: ArtifactsQuery,
    private readonly functions: FunctionsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

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
      properties: { file: { type: 'string', format: 'binary' } },
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
    if (!request.isMultipart()) {
      throw new ValidationProblem([
        { field: 'file', rule: 'isMultipart', message: 'send the file as multipart/form-data field "file"' },
      ]);
    }
    const part = await request.file();
    if (!part || part.fieldname !== 'file') {
      part?.file.resume();
      throw new ValidationProblem([
        { field: 'file', rule: 'required', message: 'multipart field "file" is required' },
      ]);
    }
    const name = part.filename;
    if (!ARTIFACT_NAME_PATTERN.test(name)) {
      part.file.resume();
      void reply.header('connection', 'close');
      throw new ValidationProblem([
        {
          field: 'file.filename',
          rule: 'isSafeFileName',
          message:
            'the file name must be a plain name: letters, digits, "_", ".", "+", "-"; no "/", "\\" or ".."',
        },
      ]);
    }
    // Past the limit, abort the upstream request so the artifact store never records a cut file.
    part.file.once('limit', () => part.file.destroy(new Error('upload exceeds the size limit')));
    let accepted: Accepted;
    try {
      accepted = await this.store.store(name, part.file, part.mimetype, query.force ?? false);
    } catch (e) {
      if (part.file.truncated) {
        void reply.header('connection', 'close');
        throw tooLarge(this.config.artifacts.maxBytes);
      }
      // The upload may be only partly read: close the connection after the answer rather than
      // leave the client's unread body hanging on it.
      void reply.header('connection', 'close');
      part.file.resume();
      throw e;
    }
    if (part.file.truncated) {
      void reply.header('connection', 'close');
      throw tooLarge(this.config.artifacts.maxBytes);
    }
    void reply.status(HttpStatus.CREATED).header('location', `/api/v1/artifacts/${encodeURIComponent(name)}`);
    return this.readBack(name, accepted);
  }

  @Get()
  @ApiOperation({ summary: 'List artifacts by name' })
  @ApiOkResponse({ type: ArtifactPageDto })
  async list(@Query() query: PageQueryDto): Promise<ArtifactPageDto> {
    const page = await this.artifacts.list(query.limit, cursorAfter(query.cursor));
    return pageOf(page, (row) => ArtifactDto.from(row));
  }

  @Get(':name')
  @ApiOperation({ summary: 'Artifact metadata' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ArtifactDto })
  @ApiNotFoundResponse({ description: 'No such artifact' })
  async get(@Param('name') name: string): Promise<ArtifactDto> {
    return ArtifactDto.from(await this.require(name));
  }

  @Get(':name/content')
  @ApiOperation({ summary: 'Download the artifact' })
  @ApiParam(NAME_PARAM)
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The content', schema: { type: 'string', format: 'binary' } })
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

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete an artifact' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such artifact' })
  @ApiConflictResponse({ description: 'A function uses the artifact' })
  async remove(@Param('name') name: string): Promise<void> {
    const users = await this.functions.usingArtifact(name);
    if (users.length > 0) {
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'in-use',
        'Artifact in use',
        `artifact ${name} is used by function(s) ${users.join(', ')}; delete or change them first`,
        [{ field: 'name', rule: 'notInUse', message: `used by ${users.join(', ')}` }],
      );
    }
    const accepted = await this.store.remove(name);
    await awaitVisible(
      `artifact ${name}`,
      this.artifacts.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
    );
  }

  private async require(name: string) {
    const row = await this.artifacts.findByName(name);
    if (!row) throw notFound(`artifact ${name}`);
    return row;
  }

  private readBack(name: string, accepted: Accepted): Promise<ArtifactDto> {
    return readBack(
      `artifact ${name}`,
      this.artifacts.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      ),
      async () => {
        const row = await this.artifacts.findByName(name);
        return row && ArtifactDto.from(row);
      },
    );
  }
}

function tooLarge(maxBytes: number): ProblemException {
  return new ProblemException(
    HttpStatus.PAYLOAD_TOO_LARGE,
    'too-large',
    'Content Too Large',
    `the file exceeds the limit of ${maxBytes} bytes`,
  );
}
