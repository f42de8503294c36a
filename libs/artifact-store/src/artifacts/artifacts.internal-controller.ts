import { Controller, Delete, Get, HttpStatus, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import {
  ARTIFACT_CONTENT_TYPE_HEADER,
  ARTIFACT_NAME_PATTERN,
  EventTopics,
  artifactStreamId,
} from '@spindle/contracts';
import { commandFailed } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { handleCommand } from '@spindle/backbone';
import type { OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import {
  CorrelationId,
  InternalRoute,
  ProblemException,
  SPINDLE_CONFIG,
  ValidationProblem,
  httpStatusOf,
  requestCorrelationId,
} from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { BlobTooLargeError, FilesystemBlobStore } from '../blobs/blob-store';
import {
  ARTIFACT_STORE_CONNECTION,
  ARTIFACT_STORE_EVENT_STORE,
  ARTIFACT_STORE_RELAY,
} from '../artifact-store.tokens';
import { artifactDecider } from './domain/artifact.decider';
import type { ArtifactCommand } from './domain/artifact.decider';

// The artifact store's own HTTP surface, used by the gateway (not part of the public API): blobs
// are streamed to the service that owns them rather than through Kafka.
@ApiExcludeController()
@InternalRoute()
@Controller('internal/v1')
export class ArtifactsInternalController {
  constructor(
    @InjectDataSource(ARTIFACT_STORE_CONNECTION) private readonly dataSource: DataSource,
    @Inject(ARTIFACT_STORE_EVENT_STORE) private readonly events: PostgresEventStore,
    @Inject(ARTIFACT_STORE_RELAY) private readonly relay: OutboxRelay,
    @Inject(FilesystemBlobStore) private readonly blobs: FilesystemBlobStore,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  @Put('artifacts/:name')
  async store(
    @Param('name') name: string,
    @Query('force') force: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommandResult> {
    assertName(name);
    const body = request.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') {
      throw new ValidationProblem([
        { field: 'body', rule: 'isStream', message: 'send the content as application/octet-stream' },
      ]);
    }
    // Refuse a duplicate before reading the body: no orphaned blob, no wasted upload.
    if (force !== 'true') {
      const history = await this.events.readStream(this.dataSource.manager, artifactStreamId(name));
      const state = history.reduce(artifactDecider.evolve, artifactDecider.initialState);
      if (state.status === 'stored') {
        void reply.status(HttpStatus.CONFLICT).header('connection', 'close');
        return commandFailed('conflict', `artifact ${name} already exists`, 'name');
      }
    }
    let blob;
    try {
      blob = await this.blobs.write(body, this.config.artifacts.maxBytes);
    } catch (e) {
      // The rest of the body is not read: have the connection closed after the answer.
      void reply.header('connection', 'close');
      if (e instanceof BlobTooLargeError) {
        throw new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'too-large', 'Content Too Large', e.message);
      }
      throw e;
    }
    const contentType = String(
      request.headers[ARTIFACT_CONTENT_TYPE_HEADER] ?? 'application/octet-stream',
    ).slice(0, 255);
    const result = await this.execute(
      { kind: 'store', name, blob, contentType, force: force === 'true' },
      requestCorrelationId(request),
    );
    void reply.status(result.ok ? HttpStatus.CREATED : statusOf(result));
    return result;
  }

  @Delete('artifacts/:name')
  async remove(
    @Param('name') name: string,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CommandResult> {
    assertName(name);
    const result = await this.execute({ kind: 'delete', name }, correlationId);
    void reply.status(result.ok ? HttpStatus.OK : statusOf(result));
    return result;
  }

  @Get('blobs/:sha256')
  async blob(@Param('sha256') sha256: string, @Res() reply: FastifyReply): Promise<void> {
    const blob = await this.blobs.open(sha256);
    if (!blob)
      throw new ProblemException(HttpStatus.NOT_FOUND, 'not-found', 'Not Found', `no blob ${sha256}`);
    await reply.header('content-length', blob.size).type('application/octet-stream').send(blob.stream);
  }

  // Under the gateway's correlation id (its X-Correlation-Id).
  private execute(command: ArtifactCommand, correlationId: string): Promise<CommandResult> {
    return handleCommand({
      dataSource: this.dataSource,
      store: this.events,
      decider: artifactDecider,
      streamId: artifactStreamId(command.name),
      topic: EventTopics.artifact,
      command,
      metadata: { correlationId, causationId: null },
      now: new Date(),
      onCommitted: () => this.relay.wake(),
    });
  }
}

function assertName(name: string): void {
  if (!ARTIFACT_NAME_PATTERN.test(name)) {
    throw new ValidationProblem([
      {
        field: 'name',
        rule: 'isSafeFileName',
        message:
          'name must be a plain file name: letters, digits, "_", ".", "+", "-"; no "/", "\\\\" or ".."',
      },
    ]);
  }
}

function statusOf(result: CommandResult): HttpStatus {
  return result.ok ? HttpStatus.OK : httpStatusOf(result.error.code);
}
