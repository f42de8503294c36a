import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Batch, Consumer } from 'kafkajs';

// The floors' Kafka clients (command-floor.ts, start-floor.ts): kafkajs with nothing logged.
export function floorKafka(clientId: string, brokers: readonly string[]): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING });
}

// A consumer in a group of its own (`group` and a fresh suffix) that reads `topic` from its
// beginning and hands each fetched batch to `eachBatch`; returned once it has joined the group, so
// nothing sent to the topic afterwards is missed. It commits no offsets: the group is this run's
// alone, and a commit is a round trip that no floor hop needs.
export async function joinedConsumer(
  kafka: Kafka,
  options: { readonly group: string; readonly topic: string; readonly fetchWaitMs: number },
  eachBatch: (batch: Batch) => Promise<void>,
): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId: `${options.group}-${randomUUID()}`,
    maxWaitTimeInMs: options.fetchWaitMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({ autoCommit: false, eachBatch: ({ batch }) => eachBatch(batch) });
  await joined;
  return consumer;
}
