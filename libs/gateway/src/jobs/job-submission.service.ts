import { Inject, Injectable } from '@nestjs/common';
import {
  CommandPatterns,
  FINISHED_JOB_STATES,
  JOB_ID_PATTERN,
  jobStreamId,
  newEventId,
} from '@spindle/contracts';
import type { JobSource, JobTags, SecretRef } from '@spindle/contracts';
import { SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { FunctionsQuery, JobsQuery, evolveJobView, targetArtifactsOf } from '@spindle/read-models';
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
  readonly correlationId: string; // the HTTP request's (requestCorrelationId), kept on its events
  readonly source: JobSource; // how the request came in, kept on the job
  readonly secrets?: readonly SecretRef[]; // added to the function's
  // Labels of APIs whose jobs have them (Ilum: a name, the cluster it was sent to, tags).
  readonly name?: string;
  readonly cluster?: string;
  readonly tags?: JobTags;
}

// Submitting and cancelling jobs, once, for every API that offers it (the native one and the
// dialects): resolve the function, context and artifact in the read models (one query), send the
// command, answer with the job as recorded.
@Injectable()
export class JobSubmission {
  constructor(
    private readonly commands: CommandSender,
    private readonly jobs: JobsQuery,
    private readonly functions: FunctionsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  async submit(request: JobRequest): Promise<JobView> {
    return (await this.submitOrReplay(request)).job;
  }

  // `replayed`: the idempotency key named a job recorded earlier, which is answered instead.
  async submitOrReplay(request: JobRequest): Promise<{ job: JobView; replayed: boolean }> {
    const target = await this.functions.findSubmitTarget(request.function, request.context);
    if (!target) throw notFound(`function ${request.function}`);
    if (!target.contextExists) {
      throw new ValidationProblem([
        { field: 'context', rule: 'exists', message: `context ${target.context} does not exist` },
      ]);
    }
    const artifacts = targetArtifactsOf(target);
    if ('missing' in artifacts) {
      throw new ValidationProblem([
        {
          field: 'function',
          rule: 'runnable',
          message: `function ${target.function} cannot run: its artifact ${artifacts.missing} no longer exists`,
        },
      ]);
    }
    // A job without timeouts of its own takes the settings' defaults in force now.
    const defaults = target.settings.jobs;
    const startTimeoutMs = request.startTimeoutMs ?? defaults.startTimeoutMs ?? undefined;
    const performTimeoutMs = request.performTimeoutMs ?? defaults.performTimeoutMs ?? undefined;
    const id = newEventId();
    const accepted = await this.commands.send(
      CommandPatterns.submitJob,
      {
        id,
        function: target.function,
        ...(request.context === undefined ? {} : { context: request.context }),
        args: request.args,
        artifact: artifacts.artifact,
        artifactSha256: artifacts.sha256,
        ...(artifacts.libraries.length > 0
          ? { libraries: artifacts.libraries.map(({ artifact, sha256 }) => ({ artifact, sha256 })) }
          : {}),
        ...(request.externalId === undefined ? {} : { externalId: request.externalId }),
        ...(startTimeoutMs === undefined ? {} : { startTimeoutMs }),
        ...(performTimeoutMs === undefined ? {} : { performTimeoutMs }),
        source: request.source,
        ...(request.secrets?.length ? { secrets: request.secrets } : {}),
        ...(request.name === undefined ? {} : { name: request.name }),
        ...(request.cluster === undefined ? {} : { cluster: request.cluster }),
        ...(request.tags === undefined ? {} : { tags: request.tags }),
      },
      { correlationId: request.correlationId, idempotencyKey: request.idempotencyKey },
    );
    // The answer is the job as its events make it, projected by the read model's own evolve:
    // recorded means answerable, with no wait for the projector. (A reused Idempotency-Key names
    // the first job instead: that one is read back.)
    const replayed = accepted.streamId !== jobStreamId(id);
    if (!replayed && accepted.events?.length) {
      const view = accepted.events.reduce<JobView | null>(evolveJobView, null);
      if (view) return { job: view, replayed };
    }
    return {
      job: await this.readBack(accepted.streamId.replace(/^job-/, ''), accepted.streamPosition),
      replayed,
    };
  }

  async cancel(id: string, correlationId: string): Promise<JobView> {
    await this.find(id);
    const accepted = await this.commands.send(CommandPatterns.cancelJob, { id }, { correlationId });
    return this.readBack(id, accepted.streamPosition);
  }

  // Forgets an ended job (JobDeleted; one that has not ended is a conflict): the row keeps a
  // tombstone, `deletedAt`.
  async delete(id: string, correlationId: string): Promise<JobView> {
    const accepted = await this.commands.send(CommandPatterns.deleteJob, { id }, { correlationId });
    return this.readBack(id, accepted.streamPosition);
  }

  async find(id: string): Promise<JobView> {
    const row = JOB_ID_PATTERN.test(id) ? await this.jobs.findRecent(id) : null;
    if (!row) throw notFound(`job ${id}`);
    return row;
  }

  // A job as soon as it has finished, or as it stands when `timeoutMs` is up (for the APIs whose
  // clients wait for the end in one request). Null: no such job.
  async waitForEnd(id: string, timeoutMs: number): Promise<JobView | null> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      // Just submitted, it may not be in the read model yet: findRecent waits for it, as long as
      // for its end (a projector that lags past the read-your-writes window is still no 'no job').
      const job = await this.jobs.findRecent(id, Math.max(deadline - Date.now(), 0));
      if (!job || FINISHED_JOB_STATES.includes(job.state) || Date.now() > deadline) return job;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private readBack(id: string, position: number): Promise<JobView> {
    return readBack(
      `job ${id}`,
      this.jobs.waitForPosition(id, position, this.config.readYourWritesTimeoutMs),
      () => this.jobs.findById(id),
    );
  }
}
