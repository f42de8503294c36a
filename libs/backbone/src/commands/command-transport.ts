import { ClientKafka, Transport } from '@nestjs/microservices';
import type { ClientProxy, CustomStrategy, KafkaOptions } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import type { SpindleConfig } from '@spindle/platform';
import { kafkaClientConfig } from '../bus/kafka-message-bus';
import { InProcessCommandClient, InProcessCommandServer } from './in-process-transport';

// How an owning service receives commands: Kafka request/reply (one consumer group per service,
// so a second process shares the load) or the in-process transport in standalone mode.
export function commandServerOptions(config: SpindleConfig, service: string): KafkaOptions | CustomStrategy {
  if (config.bus === 'in-process') return { strategy: new InProcessCommandServer() };
  return {
    transport: Transport.KAFKA,
    options: {
      client: kafkaClientConfig({ ...config.kafka }, `${service}-commands`),
      consumer: { groupId: `spindle-${service}`, allowAutoTopicCreation: true, maxWaitTimeInMs: 100 },
      producer: { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true },
      // A new group starts at the end: commands are answered synchronously, and a fresh group must
      // not replay commands that other installations sent before it existed.
      subscribe: { fromBeginning: false },
      postfixId: '-commands',
    },
  };
}

// The sending side. Each process gets its own reply consumer group, so every reply reaches
// the process that is waiting for it.
export function createCommandClient(
  config: SpindleConfig,
  service: string,
  patterns: readonly string[],
): ClientProxy {
  if (config.bus === 'in-process') return new InProcessCommandClient();
  const client = new ClientKafka({
    client: kafkaClientConfig({ ...config.kafka }, `${service}-commands`),
    consumer: { groupId: `spindle-${service}-${randomUUID()}`, maxWaitTimeInMs: 100 },
    producer: { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true },
    postfixId: '-replies',
  });
  for (const pattern of patterns) client.subscribeToResponseOf(pattern);
  // ClientKafka narrows the status type; callers only use the generic ClientProxy surface.
  return client as unknown as ClientProxy;
}
