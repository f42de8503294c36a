import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { MultipartFile } from '@fastify/multipart'; // also augments FastifyRequest with file()
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { ARTIFACT_NAME_PATTERN } from '@spindle/contracts';
import { ProblemException, SPINDLE_CONFIG, ValidationProblem, requestCorrelationId } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactsQuery, FunctionsQuery, MapReduceJobsQuery, ReadBarrier } from '@spindle/read-models';
import type { ArtifactView } from '@spindle/read-models';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import { ArtifactStoreClient } from './artifact-store.client';
import type { Accepted } from './artifact-store.client';
import { multipartRefusal } from './multipart-refusal';

// Uploading and deleting artifacts, once, for every API that offers it (native and dialects).
@Injectable()
export class ArtifactUploads {
  private readonly resource: NamedResource<ArtifactView, ArtifactView>;

  constructor(
    private readonly store: ArtifactStoreClient,
    artifacts: ArtifactsQuery,
    private readonly functions: FunctionsQuery,
    private readonly mapReduceJobs: MapReduceJobsQuery,
    private readonly barrier: ReadBarrier,
    resources: NamedResources,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {
    // Rows as they are: each API shows them in its own form.
    this.resource = resources.of({
      kind: 'artifact',
      path: '/api/v1/artifacts',
      query: artifacts,
      toDto: (row) => row,
    });
  }

  // Streams the multipart field `field` (`file`; Apollo's `program`) to the artifact store; answers
  // once the artifact is readable.
  async receive(
    request: FastifyRequest,
    reply: FastifyReply,
    force: boolean,
    field = 'file',
  ): Promise<ArtifactView> {
    if (!request.isMultipart()) {
      throw new ValidationProblem([
        { field, rule: 'isMultipart', message: `send the file as multipart/form-data field "${field}"` },
      ]);
    }
    const part = await request.file().catch((e: unknown) => {
      throw multipartRefusal(e, field);
    });
    if (!part || part.fieldname !== field) {
      part?.file.resume();
      throw new ValidationProblem([
        { field, rule: 'required', message: `multipart field "${field}" is required` },
      ]);
    }
    const name = part.filename;
    if (!ARTIFACT_NAME_PATTERN.test(name)) {
      part.file.resume();
      void reply.header('connection', 'close');
      throw new ValidationProblem([
        {
          field: `${field}.filename`,
          rule: 'isSafeFileName',
          message:
            'the file name must be a plain name: letters, digits, "_", ".", "+", "-"; no "/", "\\" or ".."',
        },
      ]);
    }
    return this.storeFile(part, name, requestCorrelationId(request), reply, force, field);
  }

  // Streams one uploaded file to the artifact store under `name`; answers once it is readable.
  // A file past the size limit is refused (413) and never recorded.
  async storeFile(
    part: MultipartFile,
    name: string,
    correlationId: string,
    reply: FastifyReply,
    force: boolean,
    field = part.fieldname, // named in a refusal
  ): Promise<ArtifactView> {
    // Past the limit, abort the upstream request so the artifact store never records a cut file.
    part.file.once('limit', () => part.file.destroy(new Error('upload exceeds the size limit')));
    let accepted: Accepted;
    try {
      accepted = await this.store.store(name, part.file, part.mimetype, force, correlationId);
    } catch (e) {
      if (part.file.truncated) {
        void reply.header('connection', 'close');
        throw tooLarge(this.config.artifacts.maxBytes, field);
      }
      // The upload may be only partly read: close the connection after the answer rather than
      // leave the client's unread body hanging on it.
      void reply.header('connection', 'close');
      part.file.resume();
      throw multipartRefusal(e, field);
    }
    if (part.file.truncated) {
      void reply.header('connection', 'close');
      throw tooLarge(this.config.artifacts.maxBytes, field);
    }
    return this.resource.readBack(name, accepted);
  }

  // Stores content Spindle itself brings (a dialect's helper program) under `name`, replacing what
  // is there; answers once it is readable.
  async storeContent(
    name: string,
    content: Buffer,
    contentType: string,
    correlationId: string,
  ): Promise<ArtifactView> {
    return this.resource.readBack(
      name,
      await this.store.store(name, Readable.from([content]), contentType, true, correlationId),
    );
  }

  // Refused (409, nothing changed) while a function or a MapReduce job not yet ended uses it: such
  // a job fetches its programs again when it is placed on another host. Both read models are read
  // once they include every write acknowledged before (a job submitted just now counts).
  async remove(name: string, correlationId: string): Promise<void> {
    await this.barrier.await(['functions', 'mapReduceJobs']);
    const [functions, jobs] = await Promise.all([
      this.functions.usingArtifact(name),
      this.mapReduceJobs.runningUsing(name),
    ]);
    const users = [
      ...(functions.length > 0 ? [`function(s) ${functions.join(', ')}`] : []),
      ...(jobs.length > 0 ? [`running MapReduce job(s) ${jobs.join(', ')}`] : []),
    ];
    const remedies = [
      ...(functions.length > 0 ? ['delete or change the functions'] : []),
      ...(jobs.length > 0 ? ['stop the jobs or let them end'] : []),
    ];
    if (users.length > 0) {
      const what = users.join(' and ');
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'in-use',
        'Artifact in use',
        `artifact ${name} is used by ${what}; ${remedies.join(', and ')} first`,
        [{ field: 'name', rule: 'notInUse', message: `used by ${what}` }],
      );
    }
    await this.resource.applied(name, await this.store.remove(name, correlationId));
  }
}

function tooLarge(maxBytes: number, field: string): ProblemException {
  const message = `the file exceeds the limit of ${maxBytes} bytes`;
  return new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'too-large', 'Content Too Large', message, [
    { field, rule: 'maxSize', message },
  ]);
}
