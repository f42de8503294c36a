// The port every producer and consumer of Spindle talks to. Two adapters implement it: Kafka for
// the real topology, and an in-process bus for standalone mode.

export interface OutgoingMessage {
  readonly key: string; // a stream id: never null, so per-stream order holds
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

export interface DeliveredMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface DeliveredBatch {
  readonly topic: string;
  // The incarnation of the topic the batch was read from (Kafka's topic id): offsets mean something
  // only within one. Null on a bus without one (the in-process bus, whose offsets are not durable).
  readonly topicId: string | null;
  readonly partition: number;
  readonly messages: readonly DeliveredMessage[];
}

export interface SubscribeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  // Called once the subscription receives messages (Kafka: the group has joined). A subscriber
  // that starts at the end announces itself to others only after this, so it misses nothing sent
  // to it.
  readonly onJoined?: () => void;
  // How the group's offsets follow what was handled (they say where a restarted or rebalanced
  // group resumes):
  // - 'each-batch' (the default): after every batch, a broker round trip in the way of the next.
  //   A restart or a rebalance reads again only a batch that was being handled.
  // - 'every-second': once a second at most, and at a stop. For a subscriber whose own checkpoint
  //   or dedup makes a second reading harmless (the event consumers' checkpoints in Postgres, log
  //   lines' keys): after a crash or a rebalance it reads up to a second's handled messages again.
  //   A busy subscriber fetches many batches a second, each of which cost an OffsetCommit request.
  // - 'never': the group commits no offsets. A subscriber that rebuilds its state from the topic at
  //   every start (worker agents' logger levels) needs none, and a Kafka group that never
  //   committed is removed by the broker as soon as its last member leaves (or its session times
  //   out), instead of its offsets being kept for `offsets.retention.minutes`: a group per process
  //   run leaves nothing behind.
  readonly commitOffsets?: 'each-batch' | 'every-second' | 'never';
  // How many partitions' batches the handler may have at once (default 1: one after the other).
  // A partition's own batches still come one after the other, in order. A subscriber that applies
  // batches together (EventConsumerGroup) asks for more, so a fetch's batches reach it together.
  readonly partitionsAtOnce?: number;
}

// Resolves once the batch is durably handled; the adapter then commits the batch's offsets, as
// SubscribeOptions.commitOffsets says. Throwing redelivers the batch.
export type BatchHandler = (batch: DeliveredBatch, heartbeat: () => Promise<void>) => Promise<void>;

export interface Subscription {
  stop(): Promise<void>;
}

// The offset of the last message a publish wrote to one partition, in the topic incarnation it
// names (null when the bus could not tell): a consumer whose checkpoint has reached it has every
// message of that publish. The outbox relay records these for the read barrier.
export interface PublishedOffset {
  readonly topic: string;
  readonly topicId: string | null;
  readonly partition: number;
  readonly offset: string;
}

export interface BusHealth {
  readonly up: boolean;
  readonly detail: string;
}

export interface MessageBus {
  readonly kind: 'kafka' | 'in-process';
  // Whether an offset names the same message across restarts. Kafka's do; the in-process bus
  // numbers messages afresh in every process, so consumers deduplicate by event id alone.
  readonly durableOffsets: boolean;
  // Resolves once every message is durably on the bus, with where each partition written to was
  // left (none on a bus without durable offsets).
  publish(batches: readonly TopicMessages[]): Promise<readonly PublishedOffset[]>;
  subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  health(): Promise<BusHealth>;
  close(): Promise<void>;
}

export const MESSAGE_BUS = Symbol('MESSAGE_BUS');
