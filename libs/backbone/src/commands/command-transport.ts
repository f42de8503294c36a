import { ClientKafka, Transport } from '@nestjs/microservices';
import type { ClientProxy, CustomStrategy, KafkaOptions } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import type { SpindleConfig } from '@spindle/platform';
import { kafkaClientConfig } from '../bus/kafka-message-bus';
import { InProcessCommandClient, InProcessCommandServer } from './in-process-transport';

// How an owning service receives commands: always in-process, for callers in the same process, and
// over Kafka request/reply when there is a broker (one consumer group per service, so a second
// process shares the load), for callers elsewhere.
export function commandServerOptions(
  config: SpindleConfig,
  service: string,
): (KafkaOptions | CustomStrategy)[] {
  const inProcess: CustomStrategy = { strategy: new InProcessCommandServer() };
  if (config.bus === 'in-process') return [inProcess];
  return [inProcess, kafkaServerOptions(config, service)];
}

function kafkaServerOptions(config: SpindleConfig, service: string): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      client: kafkaClientConfig({ ...config.kafka }, `${service}-commands`),
      consumer: { groupId: `spindle-${service}`, allowAutoTopicCreation: true, maxWaitTimeInMs: 100 },
      // Replies need no ordering between them: let them go out concurrently.
      producer: { allowAutoTopicCreation: true },
      // Commands of different partitions are handled at once, not one partition after the other.
      run: { partitionsConsumedConcurrently: config.kafka.partitions },
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
  if (config.commands === 'in-process') return new InProcessCommandClient();
  const client = new ClientKafka({
    client: kafkaClientConfig({ ...config.kafka }, `${service}-commands`),
    consumer: { groupId: `spindle-${service}-${randomUUID()}`, maxWaitTimeInMs: 100 },
    // Requests are independent of each other: no one-at-a-time ordering between them.
    producer: { allowAutoTopicCreation: true },
    postfixId: '-replies',
  });
  for (const pattern of patterns) client.subscribeToResponseOf(pattern);
  // ClientKafka narrows the status type; callers only use the generic ClientProxy surface.
  return client as unknown as ClientProxy;
}
