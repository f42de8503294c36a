import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { EXTERNAL_ID_MAX } from '@spindle/contracts';
import type { JobSource } from '@spindle/contracts';
import { ProblemException } from '@spindle/platform';
import type { JobView } from '@spindle/read-models';
import { JobSubmission } from '../../jobs/job-submission.service';
import type { JobRequest } from '../../jobs/job-submission.service';
import { MistContexts } from './mist-contexts.service';

const startRequestSchema = z.object({
  functionId: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  externalId: z.string().min(1).max(EXTERNAL_ID_MAX).optional(),
  runSettings: z.object({ contextId: z.string().min(1).optional() }).optional(),
});

// One delivery of a start request, as its transport saw it.
export interface StartDelivery {
  readonly source: Extract<JobSource, 'kafka' | 'mqtt'>;
  readonly where: string; // for the log: topic and position
  // Names the request across redeliveries: a request delivered again gets the job it started.
  readonly idempotencyKey?: string;
  // The transport knows this delivery is the request's first (MQTT's DUP flag is clear), so a job
  // already recorded under the key belongs to another request that shared it (MQTT reuses packet
  // ids), and this one gets a job of its own.
  readonly firstDelivery?: boolean;
}

// What a start request on Mist's async interface means, for every transport (Kafka, MQTT): parse
// it, make an unknown context real, submit the job once. Invalid requests and requests the core
// refuses are logged and dropped, as Mist does; anything else (the scheduler unreachable) is
// thrown, and the transport delivers the request again.
@Injectable()
export class MistStartRequests {
  private readonly logger = new Logger('mist-async');

  constructor(
    private readonly submission: JobSubmission,
    private readonly contexts: MistContexts,
  ) {}

  async start(value: string, delivery: StartDelivery): Promise<void> {
    const { where } = delivery;
    let raw: unknown;
    try {
      raw = JSON.parse(value);
    } catch {
      raw = undefined;
    }
    const request = startRequestSchema.safeParse(raw);
    if (!request.success) {
      this.logger.warn(`ignored an invalid start request at ${where}: ${request.error.issues[0]?.message}`);
      return;
    }
    const { functionId, parameters, externalId, runSettings } = request.data;
    // No HTTP request to take one from: each delivery's commands get an id of their own.
    const correlationId = randomUUID();
    try {
      if (runSettings?.contextId) await this.contexts.ensure(runSettings.contextId, correlationId);
      const { job, replayed } = await this.submit(
        {
          function: functionId,
          args: parameters ?? {},
          context: runSettings?.contextId,
          externalId,
          correlationId,
          source: delivery.source,
        },
        delivery,
      );
      this.logger.log(
        replayed
          ? `job ${job.id} of ${functionId} was started by an earlier delivery of ${where}`
          : `started job ${job.id} of ${functionId} from ${where}`,
      );
    } catch (e) {
      // A refusal (unknown function, bad context) is final.
      if (isRefusal(e)) {
        this.logger.warn(`refused the start request at ${where}: ${e.message}`);
        return;
      }
      throw e;
    }
  }

  private async submit(
    request: JobRequest,
    delivery: StartDelivery,
  ): Promise<{ job: JobView; replayed: boolean }> {
    const keyed = { ...request, idempotencyKey: delivery.idempotencyKey };
    if (!delivery.firstDelivery || delivery.idempotencyKey === undefined) {
      return this.submission.submitOrReplay(keyed);
    }
    const answer = await this.submission.submitOrReplay(keyed).catch((e: unknown) => {
      if (isKeyTaken(e)) return undefined; // by another request, for another function version
      throw e;
    });
    if (answer && !answer.replayed) return answer;
    return this.submission.submitOrReplay(request);
  }
}

function isRefusal(e: unknown): e is Error {
  const status = (e as { getStatus?: () => number }).getStatus?.();
  return e instanceof Error && status !== undefined && status >= 400 && status < 500;
}

function isKeyTaken(e: unknown): boolean {
  return e instanceof ProblemException && e.errors?.[0]?.field === 'Idempotency-Key';
}
