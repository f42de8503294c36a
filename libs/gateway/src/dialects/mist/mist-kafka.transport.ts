import { Inject, Injectable } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { MistEventFeed } from './mist-event-feed';
import { MistStartRequests } from './mist-start-requests';

// Mist's async interface over Kafka (Spindle's own broker): start requests read from one topic,
// Mist events written to another. Unlike Mist's own server (a fresh consumer group per start, so
// requests sent while it was down are never read), the request group is durable: nothing sent is
// lost, and each request is submitted with an idempotency key made of its topic, the topic's
// incarnation, partition and offset, so a redelivered one does not start a second job, and a new
// request at an offset reused by a reset broker or a re-created topic is not taken for an old one.
@Injectable()
export class MistKafkaTransport implements OnModuleInit, BeforeApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    private readonly requests: MistStartRequests,
    private readonly feed: MistEventFeed,
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
      // `mist-async`: the groups' names from before MQTT, kept so that their offsets stay.
      this.subscriptions.push(
        ...(await this.feed.follow({
          name: 'mist-async',
          publish: async (messages) => void (await this.bus.publish([{ topic: publishTopic, messages }])),
        })),
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
      await this.requests.start(message.value, {
        source: 'kafka',
        where,
        idempotencyKey: `mist-async:${batch.topic}${incarnation}/${batch.partition}@${message.offset}`,
      });
    }
  }
}
