import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { DEAD_LETTER_TOPIC, DEFAULT_CONTEXT_SETTINGS, newEventId } from '@spindle/contracts';
import type { EventEnvelope } from '@spindle/contracts';
import { TEST_KAFKA_BROKERS, createTestSchema, eventually, uniqueName } from '@spindle/testing';
import { KafkaMessageBus } from '../bus/kafka-message-bus';
import { fetchTopicIds } from '../bus/kafka-topic-ids';
import type { EventConsumer } from './event-consumer';
import { EventConsumerRunner } from './event-consumer-runner';
import { backboneMigrations } from '../database/idempotency-keys.migration';

// A broker started on empty data, or a topic deleted and created again, numbers its messages from
// 0 again while the consumers' checkpoints in Postgres stay where the old topic ended. Kafka only:
// the in-process bus keeps no offsets across processes.

function event(streamId: string, name: string): EventEnvelope {
  return {
    id: newEventId(),
    type: 'ContextCreated',
    version: 1,
    streamId,
    streamPosition: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'test',
    causationId: null,
    data: { name, settings: DEFAULT_CONTEXT_SETTINGS },
  };
}

describe('a consumer whose topic is a new incarnation', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let bus: KafkaMessageBus;
  let admin: Admin;
  let warn: jest.SpyInstance;
  const runners: EventConsumerRunner[] = [];

  beforeAll(async () => {
    db = await createTestSchema('incarnation', { migrations: backboneMigrations });
    await db.dataSource.query(`create table "${db.schema}".applied (
      seq bigserial primary key, event_id uuid not null, name text not null)`);
    bus = new KafkaMessageBus({ brokers: TEST_KAFKA_BROKERS, clientId: 'spindle-test', partitions: 1 });
    admin = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  beforeEach(async () => {
    await db.dataSource.query(`truncate "${db.schema}".applied`);
    warn = jest.spyOn(Logger.prototype, 'warn');
  });

  afterEach(async () => {
    warn.mockRestore();
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await bus.close();
    await admin.disconnect();
    await db.drop();
  });

  // Applies every event it is handed, with no guard of its own: the runner's checkpoint and inbox
  // decide what reaches it.
  function recorder(name: string, topic: string): EventConsumer {
    return {
      name,
      topics: [topic],
      async handle(events: readonly EventEnvelope[], manager: EntityManager): Promise<void> {
        for (const e of events)
          await manager.query(`insert into "${db.schema}".applied (event_id, name) values ($1, $2)`, [
            e.id,
            (e.data as { name: string }).name,
          ]);
      },
    };
  }

  async function start(consumer: EventConsumer): Promise<EventConsumerRunner> {
    const runner = new EventConsumerRunner(db.dataSource, bus, consumer, {
      schema: db.schema,
      maxAttempts: 3,
      retryBaseMs: 5,
    });
    runners.push(runner);
    await runner.start();
    return runner;
  }

  async function publish(topic: string, events: readonly EventEnvelope[]): Promise<void> {
    await bus.publish([
      { topic, messages: events.map((e) => ({ key: e.streamId, value: JSON.stringify(e) })) },
    ]);
  }

  async function appliedNames(): Promise<string[]> {
    const rows: { name: string }[] = await db.dataSource.query(
      `select name from "${db.schema}".applied order by seq`,
    );
    return rows.map((r) => r.name);
  }

  function appliedAll(names: readonly string[], what: string): Promise<string[]> {
    return eventually(
      async () => {
        const applied = await appliedNames();
        return names.every((n) => applied.includes(n)) ? applied : undefined;
      },
      20_000,
      what,
    );
  }

  // Deletion is asynchronous on the broker, and a running consumer's metadata requests may create
  // the topic again first (auto-creation): done once the name has an id of a new incarnation.
  async function recreate(topic: string): Promise<void> {
    const old = (await fetchTopicIds({ brokers: TEST_KAFKA_BROKERS }, [topic])).get(topic);
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
    await eventually(
      async () => {
        await admin
          .createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
          .catch(() => false);
        const now = (await fetchTopicIds({ brokers: TEST_KAFKA_BROKERS }, [topic])).get(topic);
        return now !== undefined && now !== old ? true : undefined;
      },
      20_000,
      `${topic} created again`,
    );
  }

  function incarnationWarnings(topic: string): string[] {
    return warn.mock.calls
      .map((call) => String(call[0]))
      .filter((text) => text.startsWith(`topic ${topic} is not the one checkpointed`));
  }

  it('reads a topic re-created while it was stopped from its beginning, once, with one warning', async () => {
    const topic = uniqueName('test.incarnation');
    await bus.ensureTopics([topic, DEAD_LETTER_TOPIC]);
    const name = uniqueName('recorder');
    const first = await start(recorder(name, topic));
    const replayed = event(uniqueName('ctx'), 'old-2');
    await publish(topic, [event(uniqueName('ctx'), 'old-1'), replayed, event(uniqueName('ctx'), 'old-3')]);
    await appliedAll(['old-1', 'old-2', 'old-3'], 'the first incarnation applied');
    await first.stop();
    runners.splice(runners.indexOf(first), 1);

    await recreate(topic);
    // Offsets 0..2 again, at or below the checkpoint: one event applied before (the relay publishing
    // it again after the reset), two new ones.
    await publish(topic, [replayed, event(uniqueName('ctx'), 'new-1'), event(uniqueName('ctx'), 'new-2')]);
    await start(recorder(name, topic));

    await appliedAll(['new-1', 'new-2'], 'the new incarnation applied');
    await new Promise((r) => setTimeout(r, 300)); // anything applied twice would show by now
    expect(await appliedNames()).toEqual(['old-1', 'old-2', 'old-3', 'new-1', 'new-2']);
    expect(incarnationWarnings(topic)).toHaveLength(1);
    const [checkpoint] = await db.dataSource.query<{ offset: string; topic_id: string }[]>(
      `select "offset"::text as "offset", topic_id from "${db.schema}".consumer_checkpoints where consumer = $1`,
      [name],
    );
    const ids = await fetchTopicIds({ brokers: TEST_KAFKA_BROKERS }, [topic]);
    expect(checkpoint).toEqual({ offset: '2', topic_id: ids.get(topic) });
  });

  it('goes on with a topic re-created while it runs', async () => {
    const topic = uniqueName('test.incarnation');
    await bus.ensureTopics([topic, DEAD_LETTER_TOPIC]);
    await start(recorder(uniqueName('recorder'), topic));
    await publish(
      topic,
      ['a-1', 'a-2', 'a-3', 'a-4'].map((n) => event(uniqueName('ctx'), n)),
    );
    await appliedAll(['a-1', 'a-2', 'a-3', 'a-4'], 'the first incarnation applied');

    await recreate(topic);
    await publish(
      topic,
      ['b-1', 'b-2'].map((n) => event(uniqueName('ctx'), n)),
    );

    await appliedAll(['b-1', 'b-2'], 'the new incarnation applied');
    expect(await appliedNames()).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'b-1', 'b-2']);
    expect(incarnationWarnings(topic)).toHaveLength(1);
  });
});
