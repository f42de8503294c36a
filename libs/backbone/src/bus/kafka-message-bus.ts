import { Logger } from '@nestjs/common';
import { CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';
import type {
  Admin,
  Consumer,
  Producer,
  KafkaConfig,
  IHeaders,
  LogEntry,
  PartitionMetadata,
  SASLOptions,
} from 'kafkajs';
import type { KafkaSasl, KafkaSecurity } from '@spindle/platform';
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
import { KafkaNamespace } from './kafka-namespace';
import { countingRequests } from './kafka-request-count';
import { fetchTopicIds } from './kafka-topic-ids';
import { ProduceQueue } from './produce-queue';

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly partitions: number;
  // KAFKA_NAMESPACE (kafka-namespace.ts); absent or empty: the contracts' names as they are.
  readonly namespace?: string;
  // TLS and SASL (KAFKA_SSL*, KAFKA_SASL_*); absent: plain, unauthenticated.
  readonly security?: KafkaSecurity;
  // How long the broker may hold a fetch that finds nothing; absent: DEFAULT_FETCH_WAIT_MS.
  readonly fetchWaitMs?: number;
}

export const DEFAULT_FETCH_WAIT_MS = 5_000;

// Publishes share a produce request while their messages stay within this size; a larger one goes
// alone. Half the broker's default bound on a partition's part of a request (message.max.bytes,
// 1 MiB), so sharing a request never makes one too large.
export const PRODUCE_REQUEST_MAX_BYTES = 512 * 1024;

// Every consumer's fetch wait: the bus's, the command servers' and the reply consumers'.
export function fetchWaitOf(options: KafkaBusOptions): number {
  return options.fetchWaitMs ?? DEFAULT_FETCH_WAIT_MS;
}

// kafkajs speaks through Nest's logger, at WARN and above.
function kafkaLogCreator() {
  const logger = new Logger('kafka');
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const text = `${namespace}: ${log.message}`;
      if (level === logLevel.ERROR) logger.error(text);
      else if (level === logLevel.WARN) logger.warn(text);
    };
}

// The one place a kafkajs client's configuration is made: the bus, command servers and clients.
export function kafkaClientConfig(options: KafkaBusOptions, suffix: string): KafkaConfig {
  const { tls, sasl } = options.security ?? NO_SECURITY;
  return {
    clientId: `${options.clientId}-${suffix}`,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator,
    retry: { initialRetryTime: 100, retries: 8 },
    ...(tls ? { ssl: tls.ca || tls.cert ? { ca: tls.ca, cert: tls.cert, key: tls.key } : true } : {}),
    ...(sasl ? { sasl: saslConfig(sasl) } : {}),
  };
}

const NO_SECURITY: KafkaSecurity = { tls: undefined, sasl: undefined };

// kafkajs types each mechanism apart; the names are the same.
function saslConfig({ mechanism, username, password }: KafkaSasl): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  }
  return out;
}

export class KafkaMessageBus implements MessageBus {
  readonly kind = 'kafka' as const;
  readonly durableOffsets = true;
  private readonly kafka: Kafka;
  private readonly names: KafkaNamespace;
  private producer: Producer | undefined;
  private producerReady: Promise<Producer> | undefined;
  private admin: Admin | undefined;
  private topicsReady: Promise<void> = Promise.resolve();
  private readonly consumers = new Set<Consumer>();
  // The topics ensureTopics made sure of: what the health check asks the broker about.
  private readonly ensuredTopics = new Set<string>();
  // Below, topic names are the broker's (namespaced) except where a method says otherwise.
  // Topic name -> its id, as last asked. Forgotten whenever a consumer of the topic (re)joins its
  // group or is handed a partition from an earlier offset than before: that is when a reset broker
  // or a re-created topic shows (the group's offsets went with it, so Kafka starts it afresh).
  private readonly topicIds = new Map<string, Promise<string>>();
  // Topic name -> its partitions, for choosing each message's partition before it is sent.
  private readonly partitions = new Map<string, Promise<PartitionMetadata[]>>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly produceQueue = new ProduceQueue({
    send: (callers) => this.sendTogether(callers),
    maxBytes: PRODUCE_REQUEST_MAX_BYTES,
  });

  constructor(private readonly options: KafkaBusOptions) {
    this.kafka = countingRequests(new Kafka(kafkaClientConfig(options, 'bus')));
    this.names = new KafkaNamespace(options.namespace ?? '');
  }

  // Creates the topics Spindle knows, so the first publish does not wait on auto-creation, and
  // waits until every partition has a leader: a topic the controller lists may not be servable yet,
  // and subscribing then fails. Calls are serialized so concurrent callers do not race.
  ensureTopics(topics: readonly string[]): Promise<void> {
    return this.ensureBrokerTopics(topics.map((t) => this.names.topic(t)));
  }

  private ensureBrokerTopics(topics: readonly string[]): Promise<void> {
    const run = this.topicsReady.then(() => this.createMissingTopics(topics));
    this.topicsReady = run.catch(() => undefined);
    return run;
  }

  private async createMissingTopics(topics: readonly string[]): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // Not kafkajs's own wait for leaders: right after a create, KRaft brokers may answer that
      // they do not host the topic yet, which that wait takes for a failure. A topic created
      // meanwhile by another process is fine too. The loop below waits for every leader.
      await admin
        .createTopics({
          waitForLeaders: false,
          topics: missing.map((topic) => ({ topic, numPartitions: this.options.partitions })),
        })
        .catch(() => undefined);
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
        const ready = metadata.topics.every(
          (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
        );
        if (ready && metadata.topics.length === topics.length) {
          for (const topic of topics) this.ensuredTopics.add(topic);
          return;
        }
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topics without leaders after 30 s: ${topics.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // Publishes made while a produce request is in flight go out together in the next one
  // (produce-queue.ts): one request per round trip, not one per publish.
  publish(batches: readonly TopicMessages[]): Promise<readonly PublishedOffset[]> {
    return this.produceQueue.publish(batches);
  }

  // Each message goes to the partition kafkajs's default partitioner picks for its key (as the
  // producer would itself), chosen here so each caller's last offset in a partition can be told
  // from the answer: the request's first offset there plus the messages sent there up to and
  // including that caller's.
  private async sendTogether(
    callers: readonly (readonly TopicMessages[])[],
  ): Promise<(readonly PublishedOffset[])[]> {
    try {
      const producer = await this.getProducer();
      const where = new Map<string, { topic: string; partition: number }>(); // `topic|partition`
      const sentThere = new Map<string, number>();
      const byTopic = new Map<
        string,
        { key: string; value: string; headers: IHeaders; partition: number }[]
      >();
      // Per caller: each partition it wrote, with the count sent there once its messages were in.
      const reach: Map<string, number>[] = [];
      for (const batches of callers) {
        const mine = new Map<string, number>();
        for (const batch of batches) {
          if (batch.messages.length === 0) continue;
          const topic = this.names.topic(batch.topic);
          const partitionMetadata = await this.partitionsOf(topic);
          const messages = byTopic.get(topic) ?? [];
          byTopic.set(topic, messages);
          for (const m of batch.messages) {
            const partition = this.partitioner({
              topic,
              partitionMetadata,
              message: { key: m.key, value: m.value },
            });
            const at = `${topic}|${partition}`;
            where.set(at, { topic, partition });
            sentThere.set(at, (sentThere.get(at) ?? 0) + 1);
            mine.set(at, sentThere.get(at)!);
            messages.push({ key: m.key, value: m.value, headers: { ...m.headers }, partition });
          }
        }
        reach.push(mine);
      }
      if (byTopic.size === 0) return callers.map(() => []);
      const written = await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      const firstOffset = new Map(
        written.map((w) => [`${w.topicName}|${w.partition}`, BigInt(w.baseOffset ?? '0')]),
      );
      return await Promise.all(
        reach.map((mine) =>
          Promise.all(
            [...mine].map(async ([at, count]) => {
              const { topic, partition } = where.get(at)!;
              return {
                topic: this.names.logicalTopic(topic),
                topicId: await this.topicIdOf(topic).catch(() => null),
                partition,
                offset: ((firstOffset.get(at) ?? 0n) + BigInt(count - 1)).toString(),
              };
            }),
          ),
        ),
      );
    } catch (e) {
      // A re-created topic may have another partition count and id: ask again next time.
      this.partitions.clear();
      this.topicIds.clear();
      throw e;
    }
  }

  private partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    let known = this.partitions.get(topic);
    if (!known) {
      known = this.ensureBrokerTopics([topic])
        .then(() => this.getAdmin())
        .then(async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions);
      this.partitions.set(topic, known);
      known.catch(() => {
        if (this.partitions.get(topic) === known) this.partitions.delete(topic);
      });
    }
    return known;
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const topics = options.topics.map((t) => this.names.topic(t));
    const consumer = this.kafka.consumer({
      groupId: this.names.group(options.groupId),
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // How long the broker may hold an empty fetch (KAFKA_FETCH_WAIT_MS, 5 s): a held fetch
      // returns as soon as a message arrives, so the wait costs no latency, only idle round trips
      // (2026-12-05, node topology, back to back: submit → start p50 204 → 170 ms at 100/s and
      // 42 → 39 ms at 5/s with 100 ms → 1 s; the 1.3 s seen on 2026-12-03 was a loaded machine).
      // 1 → 5 s (2026-12-06): an idle node topology 4.4 → 2.8 % of a core, and in two later
      // pairs 3.6, 3.2 → 2.6, 3.0 (BENCHMARKS.md). A stop does not wait for the held fetch (the
      // patch below), but a member hears of a rebalance only between two fetches, so a group's
      // rebalance may take up to the wait.
      maxWaitTimeInMs: fetchWaitOf(this.options),
      retry: { retries: 10 },
    });
    // kafkajs 2.2.4 (its last release) re-armed a 1 ms timer forever on every idle connection,
    // and checked every connection's in-flight requests for timeouts every 100 ms (a held fetch
    // is always in flight); `patches/kafkajs+2.2.4.patch` (applied by patch-package at npm
    // install) stops the first and gives each request a timer of its own instead of the second
    // (kafkajs-request-timeouts.spec.ts). Its consumer's stop also waited for the held fetch to
    // come back, twice (before leaving the group, and before closing the fetch's connection):
    // patched to abandon it (kafka-message-bus.int-spec.ts, "while the broker holds its fetch").
    this.consumers.add(consumer);
    // Subscribing to a topic that does not exist yet fails; whoever subscribes first creates it.
    await this.ensureBrokerTopics(topics);
    // The last offset handed to the handler per partition, while the assignment lasts.
    const handedUpTo = new Map<string, { topic: string; partition: number; offset: bigint }>();
    const commits = options.commitOffsets ?? 'each-batch';
    let joinedOnce = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      handedUpTo.clear();
      for (const topic of topics) this.topicIds.delete(topic);
      if (joinedOnce) return;
      joinedOnce = true;
      options.onJoined?.();
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
    await consumer.run({
      // SubscribeOptions.commitOffsets. kafkajs's autoCommit commits after every batch, whatever
      // its interval (which only adds commits within a batch): 'each-batch'. 'every-second'
      // commits itself, below and at a stop: the projector's OffsetCommit request per batch was 44 %
      // of the node topology's Kafka requests under submits (2026-12-07).
      autoCommit: commits === 'each-batch',
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsAtOnce ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
        const partitionKey = `${batch.topic}:${batch.partition}`;
        const before = handedUpTo.get(partitionKey)?.offset;
        if (before !== undefined && BigInt(batch.messages[0]!.offset) <= before)
          this.topicIds.delete(batch.topic);
        const topicId = await this.topicIdOf(batch.topic);
        const topic = this.names.logicalTopic(batch.topic);
        const messages: DeliveredMessage[] = batch.messages.map((m) => ({
          topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString() : null,
          value: m.value ? m.value.toString() : '',
          headers: headersOf(m.headers),
        }));
        await handler({ topic, topicId, partition: batch.partition, messages }, () => payload.heartbeat());
        const last = batch.messages[batch.messages.length - 1]!;
        handedUpTo.set(partitionKey, {
          topic: batch.topic,
          partition: batch.partition,
          offset: BigInt(last.offset),
        });
        // Without resolving, kafkajs fetches from the same position again and never moves on.
        payload.resolveOffset(last.offset);
        // What was resolved, when a second has passed since the last commit (autoCommitInterval).
        if (commits === 'every-second') await payload.commitOffsetsIfNecessary();
      },
    });
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        // The handled offsets not committed yet (at most a second's). A batch still being handled
        // is not in them: it is read again after a restart, and the checkpoint skips it.
        if (commits === 'every-second' && handedUpTo.size > 0) {
          await consumer
            .commitOffsets(
              [...handedUpTo.values()].map(({ topic, partition, offset }) => ({
                topic,
                partition,
                offset: String(offset + 1n),
              })),
            )
            .catch(() => undefined); // best effort: left, it costs a re-read, not a loss
        }
        await consumer.disconnect();
      },
    };
  }

  // Asked once per topic and remembered until a consumer's view of the topic may be stale.
  private topicIdOf(topic: string): Promise<string> {
    let known = this.topicIds.get(topic);
    if (!known) {
      known = fetchTopicIds(kafkaClientConfig(this.options, 'topic-ids'), [topic]).then((ids) => {
        const id = ids.get(topic);
        if (id === undefined) throw new Error(`topic ${topic} has no id on the broker yet`);
        return id;
      });
      this.topicIds.set(topic, known);
      // A failed look-up is asked again by the batch's redelivery.
      known.catch(() => {
        if (this.topicIds.get(topic) === known) this.topicIds.delete(topic);
      });
    }
    return known;
  }

  // Up when the broker answers about this installation's topics (the ones it made sure of at its
  // start), and which brokers lead them. Not kafkajs's describeCluster alone: that sends a Metadata
  // request for every topic of the cluster (kafkajs sends an empty topic list as null, which Kafka
  // reads as all), 2.5-2.8 ms of CPU a call against a broker of 617 topics, growing with a shared
  // cluster, for a probe that load balancers call every few seconds (BENCHMARKS.md, 2026-12-07
  // night). It still answers when there is nothing to ask about: before the topics were made sure
  // of, or once one was deleted (a reset broker; a publish makes it again), which Kafka refuses at
  // once rather than answering for the others.
  async health(): Promise<BusHealth> {
    try {
      const admin = await this.getAdmin();
      const topics =
        this.ensuredTopics.size === 0
          ? undefined
          : await withTimeout(admin.fetchTopicMetadata({ topics: [...this.ensuredTopics] }), 3_000).then(
              (metadata) => metadata.topics,
              (e: unknown) => {
                if ((e as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
                throw e;
              },
            );
      if (!topics) {
        const cluster = await withTimeout(admin.describeCluster(), 3_000);
        const missing = this.ensuredTopics.size > 0 ? "; some of the installation's topics are missing" : '';
        return {
          up: true,
          detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}${missing}`,
        };
      }
      const partitions = topics.flatMap((t) => t.partitions);
      const leaders = [...new Set(partitions.map((p) => p.leader).filter((l) => l >= 0))].sort(
        (a, b) => a - b,
      );
      const leaderless = partitions.filter((p) => p.leader < 0).length;
      return {
        up: true,
        detail:
          `${topics.length} topic(s), ${partitions.length} partition(s) led by broker(s) ${leaders.join(', ')}` +
          (leaderless > 0 ? `; ${leaderless} without a leader` : ''),
      };
    } catch (e) {
      // A failed admin connection is rebuilt on the next check.
      const admin = this.admin;
      this.admin = undefined;
      this.adminReady = undefined;
      void admin?.disconnect().catch(() => undefined);
      return { up: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect().catch(() => undefined)));
    this.consumers.clear();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private getProducer(): Promise<Producer> {
    if (!this.producerReady) {
      // Idempotent: retried sends never duplicate or reorder within a partition.
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
      });
      this.producer = producer;
      this.producerReady = producer.connect().then(
        () => producer,
        (e: unknown) => {
          this.producerReady = undefined;
          throw e;
        },
      );
    }
    return this.producerReady;
  }

  private adminReady: Promise<Admin> | undefined;

  // One admin connection, shared by concurrent callers; a failed one is dropped and rebuilt.
  private getAdmin(): Promise<Admin> {
    if (this.admin && this.adminReady) return this.adminReady;
    const admin = this.kafka.admin();
    this.admin = admin;
    this.adminReady = admin.connect().then(
      () => admin,
      (e: unknown) => {
        this.admin = undefined;
        this.adminReady = undefined;
        throw e;
      },
    );
    return this.adminReady;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
