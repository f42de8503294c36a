import { createHash } from 'node:crypto';
import type { DeliveredBatch, MessageBus, Subscription } from '../bus/message-bus';
import { GroupCommit } from '../event-store/group-commit';
import type { EventConsumerRunner } from './event-consumer-runner';

// Partition batches the bus may hand at once: a fetch's, of every topic the group reads (three
// partitions each by default).
const PARTITIONS_AT_ONCE = 32;

interface Handed {
  readonly batch: DeliveredBatch;
  readonly heartbeat: () => Promise<void>;
}

// Several event consumers of one service fed by one subscription of the bus. Each keeps what an
// EventConsumerRunner keeps (its checkpoints, its inbox, its dead letters, its own transaction per
// batch); only the Kafka consumer is shared. A Kafka consumer asks the broker for more every
// 100 ms while idle (KafkaMessageBus), so a projector with one per read model made most of what an
// idle Spindle spent: 12 read models, 12 consumers polling (2026-12-04: 21 consumers in the single
// topology used 17-21 % of a core doing nothing).
// A batch goes to every consumer of its topic, one after the other. When one of them fails, the
// bus delivers the batch again and whoever applied it already skips it by its checkpoint.
// The batches a fetch brings (one per partition of each topic) are handed at once and applied
// together, each consumer taking all of its topics' in one go (EventConsumerRunner.handleBatches:
// one statement where a partition's batch alone took one): with three partitions a topic, a
// projection's batches were a third the size, and each cost as much (BENCHMARKS.md, 2026-12-07).
export class EventConsumerGroup {
  private subscription: Subscription | undefined;
  // What the bus hands in one turn of the event loop goes together; a failure fails them all, and
  // the bus delivers each again.
  private readonly handed = new GroupCommit<Handed, void>(
    async (items) => {
      const batches = items.map((i) => i.batch);
      // Every batch came from the one subscription: any of their heartbeats speaks for it.
      const heartbeat = items[0]!.heartbeat;
      for (const runner of this.runners) {
        const its = batches.filter((b) => runner.topics.includes(b.topic));
        if (its.length > 0) await runner.handleBatches(its, heartbeat);
      }
      return items.map(() => ({ status: 'fulfilled' as const, value: undefined }));
    },
    { gather: 'when-idle' },
  );

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
        commitOffsets: 'every-second', // each runner's checkpoint skips what is read again
        partitionsAtOnce: PARTITIONS_AT_ONCE,
      },
      (batch, heartbeat) => this.handed.add({ batch, heartbeat }),
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }
}
