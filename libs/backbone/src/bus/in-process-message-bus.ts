import type {
  BatchHandler,
  BusHealth,
  DeliveredMessage,
  MessageBus,
  PublishedOffset,
  SubscribeOptions,
  Subscription,
  TopicMessages,
} from './message-bus';

interface Group {
  readonly id: string;
  readonly topics: Set<string>;
  readonly handler: BatchHandler;
  delivered: Map<string, bigint>; // topic -> last offset handed to this group
  chain: Promise<void>; // deliveries to one group never overlap, like one partition
  stopped: boolean;
}

// Standalone mode's bus: one partition per topic, consumer groups, and a small in-memory log.
// `publish` resolves only after every subscribed group has handled the messages, so the outbox
// relay marks a row published only once it is applied everywhere; after a crash the relay
// re-publishes it and consumers drop the duplicate by event id (their inbox).
export class InProcessMessageBus implements MessageBus {
  readonly kind = 'in-process' as const;
  readonly durableOffsets = false;
  private readonly log = new Map<string, DeliveredMessage[]>();
  private readonly groups: Group[] = [];
  private lastOffset = 0n;
  private closed = false;

  constructor(private readonly retainPerTopic = 100_000) {}

  // Offsets here are not durable: nothing to report (see PublishedOffset).
  async publish(batches: readonly TopicMessages[]): Promise<readonly PublishedOffset[]> {
    if (this.closed) throw new Error('in-process bus is closed');
    const touched = new Set<string>();
    for (const { topic, messages } of batches) {
      const log = this.log.get(topic) ?? [];
      for (const m of messages) {
        const offset = this.allocateOffset();
        log.push({
          topic,
          partition: 0,
          offset: offset.toString(),
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
        });
      }
      if (log.length > this.retainPerTopic) log.splice(0, log.length - this.retainPerTopic);
      this.log.set(topic, log);
      touched.add(topic);
    }
    const deliveries = this.groups
      .filter((g) => !g.stopped && [...touched].some((t) => g.topics.has(t)))
      .map((g) => this.schedule(g));
    await Promise.all(deliveries);
    for (const topic of touched) this.trim(topic);
    return [];
  }

  // Keeps only what some subscribed group has not had yet; with no subscriber at all, the last
  // `retainPerTopic` messages wait for one. So the log stays small and publishing stays cheap.
  private trim(topic: string): void {
    const log = this.log.get(topic);
    const readers = this.groups.filter((g) => g.topics.has(topic));
    if (!log || readers.length === 0) return;
    const low = readers.reduce(
      (min, g) => {
        const delivered = g.delivered.get(topic) ?? 0n;
        return delivered < min ? delivered : min;
      },
      BigInt(log.at(-1)?.offset ?? 0),
    );
    const keepFrom = log.findIndex((m) => BigInt(m.offset) > low);
    log.splice(0, keepFrom === -1 ? log.length : keepFrom);
  }

  // Offsets count messages within this process only (durableOffsets = false).
  private allocateOffset(): bigint {
    this.lastOffset += 1n;
    return this.lastOffset;
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const group: Group = {
      id: options.groupId,
      topics: new Set(options.topics),
      handler,
      delivered: new Map(),
      chain: Promise.resolve(),
      stopped: false,
    };
    if (!options.fromBeginning) {
      for (const topic of options.topics) {
        const last = this.log.get(topic)?.at(-1);
        if (last) group.delivered.set(topic, BigInt(last.offset));
      }
    }
    this.groups.push(group);
    options.onJoined?.();
    // A late subscriber catches up on what the log retains; its inbox skips what it applied before.
    void this.schedule(group).catch(() => undefined);
    return {
      stop: async () => {
        group.stopped = true;
        const index = this.groups.indexOf(group);
        if (index >= 0) this.groups.splice(index, 1);
        await group.chain.catch(() => undefined);
      },
    };
  }

  private schedule(group: Group): Promise<void> {
    const run = group.chain.catch(() => undefined).then(() => this.drain(group));
    group.chain = run;
    return run;
  }

  private async drain(group: Group): Promise<void> {
    for (const topic of group.topics) {
      if (group.stopped) return;
      const from = group.delivered.get(topic) ?? 0n;
      const pending = (this.log.get(topic) ?? []).filter((m) => BigInt(m.offset) > from);
      if (pending.length === 0) continue;
      await group.handler({ topic, topicId: null, partition: 0, messages: pending }, async () => undefined);
      group.delivered.set(topic, BigInt(pending.at(-1)!.offset));
    }
  }

  async health(): Promise<BusHealth> {
    return { up: !this.closed, detail: 'in-process bus' };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.groups.map((g) => g.chain.catch(() => undefined)));
  }
}
