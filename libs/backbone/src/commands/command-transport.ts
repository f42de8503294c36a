import { ClientKafka, ServerKafka } from '@nestjs/microservices';
import type {
  ClientProxy,
  CustomStrategy,
  KafkaOptions,
  MessageHandler,
  MsPattern,
  ReadPacket,
  WritePacket,
} from '@nestjs/microservices';
import type { Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { COMMAND_HEADER, commandTopicOf } from '@spindle/contracts';
import type { SpindleConfig } from '@spindle/platform';
import { fetchWaitOf, kafkaClientConfig } from '../bus/kafka-message-bus';
import { KafkaNamespace } from '../bus/kafka-namespace';
import { countingRequests } from '../bus/kafka-request-count';
import { coalescingProducer } from './coalescing-producer';
import { rememberedHandlers } from './handler-lookup';
import { InProcessCommandClient, InProcessCommandServer } from './in-process-transport';

// How an owning service receives commands: always in-process, for callers in the same process, and
// over Kafka request/reply when there is a broker (one consumer group per service, so a second
// process shares the load), for callers elsewhere.
export function commandServerOptions(config: SpindleConfig, service: string): CustomStrategy[] {
  const inProcess: CustomStrategy = { strategy: new InProcessCommandServer() };
  if (config.bus === 'in-process') return [inProcess];
  const names = new KafkaNamespace(config.kafka.namespace);
  return [
    inProcess,
    { strategy: new NamespacedKafkaServer(kafkaServerOptions(config, service, names), names) },
  ];
}

function kafkaServerOptions(
  config: SpindleConfig,
  service: string,
  names: KafkaNamespace,
): Required<KafkaOptions>['options'] {
  return {
    client: kafkaClientConfig({ ...config.kafka }, `${service}-commands`),
    consumer: {
      groupId: names.group(`spindle-${service}`),
      allowAutoTopicCreation: true,
      maxWaitTimeInMs: fetchWaitOf(config.kafka),
    },
    // Replies need no ordering between them: let them go out concurrently.
    producer: { allowAutoTopicCreation: true },
    // Commands of different partitions are handled at once, not one partition after the other.
    run: { partitionsConsumedConcurrently: config.kafka.partitions },
    // A new group starts at the end: commands are answered synchronously, and a fresh group must
    // not replay commands sent before it existed.
    subscribe: { fromBeginning: false },
    postfixId: '-commands',
  };
}

// Nest's Kafka server subscribes to its handlers' patterns as topic names. Here it subscribes to
// their owners' command topics (commandTopicOf: one per service) in the installation's namespace
// (KafkaNamespace), and hands each message on under the pattern its COMMAND_HEADER names, so the
// handlers are found as Nest registered them. A reply goes to the topic the request names (the
// client's, namespaced by it).
class NamespacedKafkaServer extends ServerKafka {
  private readonly lookup = rememberedHandlers((pattern) => super.getHandlerByPattern(pattern));

  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly names: KafkaNamespace,
  ) {
    super(options);
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    // Replies share produce requests (coalescing-producer.ts). Nest made and connected the
    // producer just before; it sends nothing until a command arrives.
    if (this.producer) this.producer = coalescingProducer(this.producer);
    const topics = [...new Set([...this.messageHandlers.keys()].map(commandTopicOf))].map((topic) =>
      this.names.topic(topic),
    );
    if (topics.length > 0) await consumer.subscribe({ ...this.options.subscribe, topics });
    await consumer.run({
      ...this.options.run,
      // Commands are independent requests (a stream's order is kept by the event store's
      // expected versions, not by the topic): every command of a fetched batch is handled at once,
      // so their appends share group commits. One at a time per partition, a scheduler answered
      // 30-43 submits/s at 32 in flight (2026-12-05, topology all). The batch's offsets are
      // committed once every command in it has been handled. A message that cannot be handled at
      // all (not a command Nest can read) is logged and passed: its sender's request times out,
      // and the commands beside it are not handled a second time by a retried batch.
      eachBatch: async (payload) => {
        const { batch } = payload;
        const handled = await Promise.allSettled(
          batch.messages.map((message) =>
            this.handleMessage({
              topic: batch.topic,
              partition: batch.partition,
              message,
              heartbeat: () => payload.heartbeat(),
              pause: () => payload.pause(),
            }),
          ),
        );
        for (const failed of handled.filter((h) => h.status === 'rejected'))
          this.logger.error(`a command on ${batch.topic} could not be handled: ${String(failed.reason)}`);
      },
    });
  }

  // Its requests are counted with every other Kafka client's (kafka-request-count.ts).
  override createClient<T = Kafka>(): T {
    return countingRequests(super.createClient<Kafka>()) as T;
  }

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.lookup(pattern);
  }

  // Nest takes the topic for the pattern. A message without the header keeps its topic's name,
  // which no handler has: a request gets Nest's "no matching message handler" error as its reply.
  override handleMessage(payload: EachMessagePayload): Promise<unknown> {
    const pattern = payload.message.headers?.[COMMAND_HEADER]?.toString();
    return super.handleMessage({ ...payload, topic: pattern ?? this.names.logicalTopic(payload.topic) });
  }
}

// The client's side of the same: a request goes to its owner's command topic in the namespace,
// its pattern in the COMMAND_HEADER, and its reply topic (`<topic>.reply`, subscribed under the
// same name) is in the namespace too.
class NamespacedKafkaClient extends ClientKafka {
  private coalesced: Producer | undefined; // the producer wrapped for this connection

  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly names: KafkaNamespace,
  ) {
    super(options);
  }

  override createClient<T = Kafka>(): T {
    return countingRequests(super.createClient<Kafka>()) as T;
  }

  protected override normalizePattern(pattern: MsPattern): string {
    return this.names.topic(commandTopicOf(super.normalizePattern(pattern)));
  }

  // Commands share produce requests (coalescing-producer.ts). Nest calls connect before every
  // send, so the producer is wrapped before the first command goes out.
  override async connect(): Promise<Producer> {
    await super.connect();
    if (this._producer && this._producer !== this.coalesced) {
      this._producer = this.coalesced = coalescingProducer(this._producer);
    }
    return this._producer!;
  }

  // The payload always travels as the message's value: handed to Nest's serializer bare, an object
  // with a `key` or `value` field of its own would have been taken for a Kafka message.
  protected override publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = packet.pattern as MsPattern;
    const value: unknown = packet.data;
    const headers = { [COMMAND_HEADER]: super.normalizePattern(pattern) };
    return super.publish({ pattern, data: { value, headers } }, callback);
  }

  // The reply partitions this client owns, by the contracts' topic names (CommandBus waits for them).
  override getConsumerAssignments(): { [key: string]: number } {
    return Object.fromEntries(
      Object.entries(super.getConsumerAssignments()).map(([topic, p]) => [this.names.logicalTopic(topic), p]),
    );
  }
}

// The sending side. Each process gets its own reply consumer group, so every reply reaches
// the process that is waiting for it.
export function createCommandClient(
  config: SpindleConfig,
  service: string,
  patterns: readonly string[],
): ClientProxy {
  if (config.commands === 'in-process') return new InProcessCommandClient();
  const names = new KafkaNamespace(config.kafka.namespace);
  const client = new NamespacedKafkaClient(
    {
      client: kafkaClientConfig({ ...config.kafka }, `${service}-commands`),
      consumer: {
        groupId: names.group(`spindle-${service}-${randomUUID()}`),
        maxWaitTimeInMs: fetchWaitOf(config.kafka),
      },
      // The group is this process's alone and starts at the end: its offsets would never be read.
      // Committed, they cost a request per fetched batch, and left a group on the broker for
      // offsets.retention.minutes (7 days) after every process that ever sent a command.
      run: { autoCommit: false },
      // Requests are independent of each other: no one-at-a-time ordering between them.
      producer: { allowAutoTopicCreation: true },
      postfixId: '-replies',
    },
    names,
  );
  // One reply topic per owner's command topic (a pattern stands for its owner).
  const owners = new Map(patterns.map((pattern) => [commandTopicOf(pattern), pattern]));
  for (const pattern of owners.values()) client.subscribeToResponseOf(pattern);
  // ClientKafka narrows the status type; callers only use the generic ClientProxy surface.
  return client as unknown as ClientProxy;
}
