import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { MixedList } from 'typeorm';
import { Kafka, logLevel } from 'kafkajs';

// Tests use the real broker and the real Postgres that `npm run infra:up` starts.
export const TEST_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/spindle';
export const TEST_KAFKA_BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

// A throwaway database for tests that run whole services (their schema names are fixed).
export async function createTestDatabase(
  prefix = 'spindle_t',
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = new Client({ connectionString: withDatabase(TEST_DATABASE_URL, 'postgres') });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  return {
    name,
    url: withDatabase(TEST_DATABASE_URL, name),
    drop: async () => {
      const c = new Client({ connectionString: withDatabase(TEST_DATABASE_URL, 'postgres') });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

// A throwaway schema, migrated with the migrations the test names for it.
export async function createTestSchema(
  prefix: string,
  options: { migrations: (schema: string) => Function[]; entities?: MixedList<Function> },
): Promise<{ schema: string; dataSource: DataSource; drop(): Promise<void> }> {
  const schema = uniqueName(prefix).toLowerCase();
  const dataSource = new DataSource({
    type: 'postgres',
    url: TEST_DATABASE_URL,
    schema,
    entities: options.entities ?? [],
    migrations: options.migrations(schema),
    migrationsTableName: 'migrations',
    extra: { max: 10 },
  });
  await dataSource.initialize();
  await dataSource.query(`create schema "${schema}"`);
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    schema,
    dataSource,
    drop: async () => {
      await dataSource.query(`drop schema if exists "${schema}" cascade`);
      await dataSource.destroy();
    },
  };
}

export interface TopicRecord {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
  readonly offset: string;
}

// Reads a Kafka topic from the beginning with a fresh group until `until` holds or time runs out.
export async function readKafkaTopic(
  topic: string,
  until: (records: TopicRecord[]) => boolean,
  timeoutMs = 20_000,
): Promise<TopicRecord[]> {
  const kafka = new Kafka({
    clientId: 'spindle-test-reader',
    brokers: TEST_KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader'), maxWaitTimeInMs: 100 });
  const records: TopicRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = String(v);
        records.push({
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
          headers,
          offset: message.offset,
        });
        if (until(records)) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

// Removes an installation's topics and consumer groups from the broker (KAFKA_NAMESPACE `ns`:
// topics `ns.spindle.*`, groups `ns.*`): a CI broker otherwise keeps every suite's partitions open,
// thousands of files by the end of a run.
export async function deleteKafkaNamespace(namespace: string, brokers: readonly string[]): Promise<void> {
  if (namespace === '') throw new Error('no namespace: this would delete every installation on the broker');
  const prefix = `${namespace}.`;
  const admin = new Kafka({
    clientId: 'spindle-test-cleanup',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(prefix));
    // A group with members left (a consumer still leaving) is refused; it goes with the broker.
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

// The process is there (perhaps a zombie not yet reaped); false once it is gone.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Polls until the check returns a value other than undefined, or fails with the last value seen.
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
