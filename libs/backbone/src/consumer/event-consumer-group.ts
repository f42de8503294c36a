import { createHash } from 'node:crypto';
import type { MessageBus, Subscription } from '../bus/message-bus';
import type { EventConsumerRunner } from './event-consumer-runner';

// Several event consumers of one service fed by one subscription of the bus. Each keeps what an
// EventConsumerRunner keeps (its checkpoints, its inbox, its dead letters, its own transaction per
// batch); only the Kafka consumer is shared. A Kafka consumer asks the broker for more every
// 100 ms while idle (KafkaMessageBus), so a projector with one per read model made most of what an
// idle Spindle spent: 12 read models, 12 consumers polling (2026-12-04: 21 consumers in the single
// topology used 17-21 % of a core doing nothing).
// A batch goes to every consumer of its topic, one after the other. When one of them fails, the
// bus delivers the batch again and whoever applied it already skips it by its checkpoint.
export class EventConsumerGroup {
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: MessageBus,
    // The bus group's name is this prefix and the consumers' names, hashed (groupIdOf).
    private readonly prefix: string,
    private readonly runners: readonly EventConsumerRunner[],
  ) {}

  // The bus group of a set of consumers. It changes with the set: a consumer added by a new
  // release comes with a new group, which reads every topic from its beginning, as that consumer's
  // own group would have (the others skip by their checkpoints what they applied); processes with
  // the same set share the partitions, as one consumer's group would.
  static groupIdOf(prefix: string, names: readonly string[]): string {
    const hash = createHash('sha256')
      .update([...names].sort().join('\n'))
      .digest('hex');
    return `${prefix}.${hash.slice(0, 12)}`;
  }

  async start(): Promise<void> {
    const topics = [...new Set(this.runners.flatMap((r) => r.topics))];
    this.subscription = await this.bus.subscribe(
      {
        groupId: EventConsumerGroup.groupIdOf(
          this.prefix,
          this.runners.map((r) => r.name),
        ),
        topics,
        fromBeginning: true,
      },
      async (batch, heartbeat) => {
        for (const runner of this.runners) {
          if (runner.topics.includes(batch.topic)) await runner.handleBatch(batch, heartbeat);
        }
      },
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }
}
