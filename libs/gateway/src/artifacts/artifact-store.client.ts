import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ARTIFACT_CONTENT_TYPE_HEADER, CORRELATION_ID_HEADER } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { ProblemException, SPINDLE_CONFIG, internalHeaders } from '@spindle/platform';
import type { ProblemDetails, SpindleConfig } from '@spindle/platform';
import type { Accepted } from '../commands/command-sender';

export type { Accepted };

// Streams artifact content to and from the artifact store, which owns the blobs. Its refusals
// (400, 409, 413, 404) come back as the same problem documents. A store or a delete is recorded
// under the request's correlation id (requestCorrelationId).
@Injectable()
export class ArtifactStoreClient {
  constructor(@Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig) {}

  async store(
    name: string,
    content: Readable,
    contentType: string,
    force: boolean,
    correlationId: string,
  ): Promise<Accepted> {
    const response = await this.call(
      `/internal/v1/artifacts/${encodeURIComponent(name)}${force ? '?force=true' : ''}`,
      {
        method: 'PUT',
        body: Readable.toWeb(content) as ReadableStream,
        duplex: 'half',
        headers: {
          'content-type': 'application/octet-stream',
          [ARTIFACT_CONTENT_TYPE_HEADER]: contentType,
          [CORRELATION_ID_HEADER]: correlationId,
        },
      },
    );
    return this.accepted(response);
  }

  async remove(name: string, correlationId: string): Promise<Accepted> {
    return this.accepted(
      await this.call(`/internal/v1/artifacts/${encodeURIComponent(name)}`, {
        method: 'DELETE',
        headers: { [CORRELATION_ID_HEADER]: correlationId },
      }),
    );
  }

  async open(sha256: string): Promise<Readable> {
    const response = await this.call(`/internal/v1/blobs/${sha256}`, { method: 'GET' });
    if (!response.ok || !response.body) await this.fail(response);
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  private async call(path: string, init: RequestInit & { duplex?: 'half' }): Promise<Response> {
    const headers = {
      ...(init.headers as Record<string, string> | undefined),
      ...internalHeaders(this.config),
    };
    try {
      return await fetch(this.config.urls.artifactStore + path, { ...init, headers });
    } catch (e) {
      throw new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'owner-unavailable',
        'Service Unavailable',
        `the artifact store is not reachable: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private async accepted(response: Response): Promise<Accepted> {
    if (!response.ok) await this.fail(response);
    const result = (await response.json()) as CommandResult;
    if (!result.ok)
      throw new ProblemException(HttpStatus.BAD_GATEWAY, 'owner-error', 'Bad Gateway', result.error.message);
    return result;
  }

  private async fail(response: Response): Promise<never> {
    const text = await response.text();
    let problem: Partial<ProblemDetails> & { error?: { message?: string; field?: string; code?: string } } =
      {};
    try {
      problem = JSON.parse(text) as typeof problem;
    } catch {
      // not JSON
    }
    const status = response.status as HttpStatus;
    const detail = problem.error?.message ?? problem.detail ?? (text || `artifact store answered ${status}`);
    const errors =
      problem.errors ??
      (problem.error?.field
        ? [{ field: problem.error.field, rule: problem.error.code ?? 'invalid', message: detail }]
        : undefined);
    throw new ProblemException(
      status,
      String(problem.error?.code ?? 'artifact-store').replace('_', '-'),
      problem.title ?? detail,
      detail,
      errors,
    );
  }
}
