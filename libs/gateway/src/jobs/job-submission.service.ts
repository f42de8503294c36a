import { Inject, Injectable } from '@nestjs/common';
import { CommandPatterns, JOB_ID_PATTERN, newEventId } from '@spindle/contracts';
import type { JobSource } from '@spindle/contracts';
import { SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactsQuery, ContextsQuery, FunctionsQuery, JobsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import { notFound, readBack } from '../read-back';

export interface JobRequest {
  readonly function: string;
  readonly args: Record<string, unknown>;
  readonly context?: string;
  readonly externalId?: string;
  readonly startTimeoutMs?: number;
  readonly performTimeoutMs?: number;
  readonly idempotencyKey?: string;
  readonly source: JobSource; // how the request came in, kept on the job
}

// Submitting and cancelling jobs, once, for every API that offers it (the native one and the
// dialects): resolve the function, context and artifact in the read models, send the command,
// answer with the job as its read model shows it.
@Injectable()
export class JobSubmission {
  constructor(
    private readonly commands: CommandSender,
    private readonly jobs: JobsQuery,
    private readonly functions: FunctionsQuery,
    private readonly contexts: ContextsQuery,
    private readonly artifacts: ArtifactsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  async submit(request: JobRequest): Promise<JobView> {
    const fn = await this.functions.findByName(request.function);
    if (!fn) throw notFound(`function ${request.function}`);
    const context = request.context ?? fn.defaultContext;
    if (!(await this.contexts.findByName(context))) {
      throw new ValidationProblem([
        { field: 'context', rule: 'exists', message: `context ${context} does not exist` },
      ]);
    }
    const artifact = await this.artifacts.findByName(fn.artifact);
    if (!artifact) {
      throw new ValidationProblem([
        {
          field: 'function',
          rule: 'runnable',
          message: `function ${fn.name} cannot run: its artifact ${fn.artifact} no longer exists`,
        },
      ]);
    }
    const accepted = await this.commands.send(
      CommandPatterns.submitJob,
      {
        id: newEventId(),
        function: fn.name,
        ...(request.context === undefined ? {} : { context: request.context }),
        args: request.args,
        artifact: artifact.name,
        artifactSha256: artifact.sha256,
        ...(request.externalId === undefined ? {} : { externalId: request.externalId }),
        ...(request.startTimeoutMs === undefined ? {} : { startTimeoutMs: request.startTimeoutMs }),
        ...(request.performTimeoutMs === undefined ? {} : { performTimeoutMs: request.performTimeoutMs }),
        source: request.source,
      },
      request.idempotencyKey,
    );
    // With a reused Idempotency-Key the answer names the first job, not the id drawn here.
    return this.readBack(accepted.streamId.replace(/^job-/, ''), accepted.streamPosition);
  }

  async cancel(id: string): Promise<JobView> {
    await this.find(id);
    const accepted = await this.commands.send(CommandPatterns.cancelJob, { id });
    return this.readBack(id, accepted.streamPosition);
  }

  async find(id: string): Promise<JobView> {
    const row = JOB_ID_PATTERN.test(id) ? await this.jobs.findById(id) : null;
    if (!row) throw notFound(`job ${id}`);
    return row;
  }

  private readBack(id: string, position: number): Promise<JobView> {
    return readBack(
      `job ${id}`,
      this.jobs.waitForPosition(id, position, this.config.readYourWritesTimeoutMs),
      () => this.jobs.findById(id),
    );
  }
}
