import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { z } from 'zod';
import { DataTopics, EventTopics, logBatchSchema, parseEvent } from '@spindle/contracts';
import type { JobEvent } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { JobSubmission } from '../../jobs/job-submission.service';
import { mistEventsOf, mistLogsEvents } from './mist-events';
import { MistContexts } from './mist-contexts.service';

const startRequestSchema = z.object({
  functionId: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  externalId: z.string().min(1).max(256).optional(),
  runSettings: z.object({ contextId: z.string().min(1).optional() }).optional(),
});

// Mist's async interface over Kafka: start requests consumed from one topic, every job event and
// every job's log lines (`logs` events) published to another. Unlike Mist's own server (a fresh consumer group per start, so requests
// sent while it was down are never read), the request group is durable: nothing sent is lost, and
// each request is submitted with an idempotency key made of its topic, the topic's incarnation,
// partition and offset, so a redelivered one does not start a second job, and a new request at an
// offset reused by a reset broker or a re-created topic is not taken for an old one.
@Injectable()
export class MistAsyncInterface implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('mist-async');
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    private readonly submission: JobSubmission,
    private readonly contexts: MistContexts,
  ) {}

  async onModuleInit(): Promise<void> {
    const { subscribeTopic, publishTopic } = this.config.mist;
    if (subscribeTopic) {
      this.subscriptions.push(
        await this.bus.subscribe(
          { groupId: 'spindle.mist-async.requests.v1', topics: [subscribeTopic], fromBeginning: true },
          (batch) => this.startJobs(batch),
        ),
      );
    }
    if (publishTopic) {
      this.subscriptions.push(
        await this.bus.subscribe(
          {
            groupId: 'spindle.mist-async.events.v1',
            topics: [EventTopics.schedulerJob],
            fromBeginning: false,
          },
          (batch) => this.publishEvents(batch, publishTopic),
        ),
      );
      // A group of its own, so a burst of output does not hold back the status events.
      this.subscriptions.push(
        await this.bus.subscribe(
          { groupId: 'spindle.mist-async.logs.v1', topics: [DataTopics.logs], fromBeginning: false },
          (batch) => this.publishLogs(batch, publishTopic),
        ),
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.stop()));
  }

  private async startJobs(batch: DeliveredBatch): Promise<void> {
    for (const message of batch.messages) {
      const where = `${batch.topic}/${batch.partition}@${message.offset}`;
      const incarnation = batch.topicId === null ? '' : `~${batch.topicId}`;
      let raw: unknown;
      try {
        raw = JSON.parse(message.value);
      } catch {
        raw = undefined;
      }
      const request = startRequestSchema.safeParse(raw);
      if (!request.success) {
        this.logger.warn(`ignored an invalid start request at ${where}: ${request.error.issues[0]?.message}`);
        continue;
      }
      const { functionId, parameters, externalId, runSettings } = request.data;
      try {
        if (runSettings?.contextId) await this.contexts.ensure(runSettings.contextId);
        const job = await this.submission.submit({
          function: functionId,
          args: parameters ?? {},
          context: runSettings?.contextId,
          externalId,
          idempotencyKey: `mist-async:${batch.topic}${incarnation}/${batch.partition}@${message.offset}`,
          source: 'kafka',
        });
        this.logger.log(`started job ${job.id} of ${functionId} from ${where}`);
      } catch (e) {
        // A refusal (unknown function, bad context) is final: Mist logs and drops it too. Anything
        // else (the scheduler unreachable) is thrown, so the request is delivered again.
        const status = (e as { getStatus?: () => number }).getStatus?.();
        if (status !== undefined && status >= 400 && status < 500) {
          this.logger.warn(
            `refused the start request at ${where}: ${e instanceof Error ? e.message : String(e)}`,
          );
          continue;
        }
        throw e;
      }
    }
  }

  private async publishEvents(batch: DeliveredBatch, topic: string): Promise<void> {
    const messages = batch.messages.flatMap((message) => {
      let event: JobEvent;
      try {
        event = parseEvent(JSON.parse(message.value)) as JobEvent;
      } catch {
        return [];
      }
      const data = event.data as unknown as Record<string, unknown>;
      return mistEventsOf({
        type: event.type,
        data,
        occurredAt: new Date(event.occurredAt),
        function: typeof data['function'] === 'string' ? data['function'] : null,
        context: typeof data['context'] === 'string' ? data['context'] : '',
      }).map((e) => ({ key: e.id, value: JSON.stringify(e) }));
    });
    if (messages.length > 0) await this.bus.publish([{ topic, messages }]);
  }

  private async publishLogs(batch: DeliveredBatch, topic: string): Promise<void> {
    const messages = batch.messages.flatMap((message) => {
      let raw: unknown;
      try {
        raw = JSON.parse(message.value);
      } catch {
        return []; // the log-collector reports malformed batches; nothing to say twice
      }
      const parsed = logBatchSchema.safeParse(raw);
      if (!parsed.success) return [];
      const { jobId, firstLine, firstByte, lines } = parsed.data;
      return mistLogsEvents(jobId, { line: firstLine, byte: firstByte }, lines).map((e) => ({
        key: jobId,
        value: JSON.stringify(e),
      }));
    });
    if (messages.length > 0) await this.bus.publish([{ topic, messages }]);
  }
}
