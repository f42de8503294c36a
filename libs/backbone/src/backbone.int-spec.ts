import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import {
  DEAD_LETTER_TOPIC,
  DEFAULT_CONTEXT_SETTINGS,
  InvalidEventError,
  newEventId,
  parseEvent,
} from '@spindle/contracts';
import type { EventEnvelope, NewEvent, SpindleEvent } from '@spindle/contracts';
import { Client } from 'pg';
import {
  TEST_DATABASE_URL,
  TEST_KAFKA_BROKERS,
  createTestSchema,
  eventually,
  readKafkaTopic,
  uniqueName,
} from '@spindle/testing';
import { InProcessMessageBus } from './bus/in-process-message-bus';
import { KafkaMessageBus } from './bus/kafka-message-bus';
import type { DeliveredMessage, MessageBus } from './bus/message-bus';
import { runStatements } from './database/statement-parts';
import type { EventConsumer } from './consumer/event-consumer';
import { backboneMigrations } from './database/idempotency-keys.migration';
import { PgNotifications } from './database/pg-notifications';
import { applicationNameOf } from './database/writer-horizon';
import { EventConsumerGroup } from './consumer/event-consumer-group';
import { EventConsumerRunner, SimulatedCrash } from './consumer/event-consumer-runner';
import { streamProjection } from './consumer/stream-projection';
import type { StreamProjection } from './consumer/stream-projection';
import { ConcurrencyError, PostgresEventStore } from './event-store/postgres-event-store';
import { OutboxRelay } from './outbox/outbox-relay';

// The backbone's promises, checked against the real Postgres and, in turn, the real Kafka broker
// and the in-process bus: one suite, two adapters.

@Entity({ name: 'stream_counts' })
class StreamCount {
  @PrimaryColumn('text', { name: 'stream_id' }) streamId!: string;
  @Column('integer', { name: 'stream_position' }) streamPosition!: number;
  @Column('integer') count!: number;
  @Column('text', { name: 'last_type' }) lastType!: string;
}

function contextCreated(name: string): NewEvent {
  return { type: 'ContextCreated', version: 1, data: { name, settings: DEFAULT_CONTEXT_SETTINGS } };
}

function envelope(streamId: string, position: number, name: string): EventEnvelope {
  return {
    id: newEventId(),
    type: 'ContextCreated',
    version: 1,
    streamId,
    streamPosition: position,
    occurredAt: new Date().toISOString(),
    correlationId: 'test',
    causationId: null,
    data: { name, settings: DEFAULT_CONTEXT_SETTINGS },
  };
}

const meta = { correlationId: 'test', causationId: null };

// Counts every event per stream, guarded by stream position: duplicates must not count twice.
function countingProjection(name: string, topic: string): StreamProjection<StreamCount> {
  return streamProjection<StreamCount>({
    name,
    topics: [topic],
    entity: StreamCount,
    evolve: (row, event) => ({
      streamId: event.streamId,
      streamPosition: event.streamPosition,
      count: (row?.count ?? 0) + 1,
      lastType: event.type,
    }),
  });
}

// Logs every event it is handed, with no guard of its own: only the runner's checkpoint keeps
// it from applying a redelivered message twice.
function loggingConsumer(
  schema: string,
  name: string,
  topic: string,
  fail?: (e: EventEnvelope) => boolean,
): EventConsumer & { calls: number } {
  const consumer = {
    name,
    topics: [topic],
    calls: 0,
    async handle(events: readonly EventEnvelope[], manager: EntityManager): Promise<void> {
      consumer.calls++;
      for (const e of events) {
        if (fail?.(e)) throw new Error(`cannot handle ${(e.data as { name: string }).name}`);
        await manager.query(`insert into "${schema}".applied (event_id, stream_id) values ($1, $2)`, [
          e.id,
          e.streamId,
        ]);
      }
    },
  };
  return consumer;
}

async function countRows(dataSource: DataSource, schema: string, table: string): Promise<number> {
  const [row] = await dataSource.query<{ n: number }[]>(
    `select count(*)::int as n from "${schema}".${table}`,
  );
  return row!.n;
}

type BusFactory = () => MessageBus;

const buses: [string, BusFactory][] = [
  [
    'kafka',
    () => new KafkaMessageBus({ brokers: TEST_KAFKA_BROKERS, clientId: 'spindle-test', partitions: 1 }),
  ],
  ['in-process', () => new InProcessMessageBus()],
];

describe('concurrency of the event store', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestSchema('es', { migrations: (schema) => backboneMigrations(schema) });
    store = new PostgresEventStore(db.schema);
  });
  afterAll(() => db.drop());

  it('lets one of two concurrent appends at the same expected position win; the other gets a concurrency error', async () => {
    const streamId = uniqueName('stream');
    const options = { topic: 't', metadata: meta, occurredAt: new Date() };
    const results = await Promise.allSettled(
      ['a', 'b'].map((n) =>
        db.dataSource.transaction(async (m) => {
          await store.append(m, streamId, 0, [contextCreated(n)], options);
          // Hold the transaction open so the two really overlap.
          await new Promise((r) => setTimeout(r, 200));
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(ConcurrencyError);
    const stream = await store.readStream(db.dataSource.manager, streamId);
    expect(stream.map((e) => e.streamPosition)).toEqual([1]);
    expect(await countRows(db.dataSource, db.schema, 'outbox')).toBe(1);
  });

  it('refuses an append made on a stale position and writes nothing', async () => {
    const streamId = uniqueName('stream');
    const options = { topic: 't', metadata: meta, occurredAt: new Date() };
    await db.dataSource.transaction((m) =>
      store.append(m, streamId, 0, [contextCreated('a'), contextCreated('b')], options),
    );
    await expect(
      db.dataSource.transaction((m) => store.append(m, streamId, 1, [contextCreated('c')], options)),
    ).rejects.toMatchObject({ name: 'ConcurrencyError', expectedPosition: 1, actualPosition: 2 });
    expect((await store.readStream(db.dataSource.manager, streamId)).map((e) => e.streamPosition)).toEqual([
      1, 2,
    ]);
  });

  // A batch's JSON goes to Postgres as one JSON array per column (jsonbElements): each event's
  // data and outbox message must come back as given, each at its own position.
  it("keeps each event's data and outbox message as given, in order, whatever characters they hold", async () => {
    const names = [
      'quote " and \\" escaped',
      'back\\slash \\\\ twice',
      '{braces},[commas]',
      'zürich 東京 🚀',
      'line\nbreak\ttab',
      'x'.repeat(5_000),
    ];
    const options = { topic: 'chars', metadata: meta, occurredAt: new Date() };
    const appends = names.map((name, i) => ({
      streamId: uniqueName(`chars-${i}`),
      expectedPosition: 0,
      events: [contextCreated(name), contextCreated(`${name} again`)],
      ...options,
    }));
    const appended = (await store.appendMany(db.dataSource.manager, appends)).flat();
    const streams = await store.readStreams(
      db.dataSource.manager,
      appends.map((a) => a.streamId),
    );
    expect([...streams.values()].flat().map((e) => (e.data as { name: string }).name)).toEqual(
      names.flatMap((name) => [name, `${name} again`]),
    );
    const outbox = await db.dataSource.query<{ payload: unknown; headers: unknown }[]>(
      `select payload, headers from "${db.schema}".outbox where topic = 'chars' order by position`,
    );
    expect(outbox.map((row) => row.payload)).toEqual(appended.map((e) => JSON.parse(JSON.stringify(e))));
    expect(outbox.map((row) => row.headers)).toEqual(
      appended.map((e) => ({ 'event-type': e.type, 'event-id': e.id })),
    );
  });

  // Without a transaction around it: a fresh stream's claim and the rider's write, which succeed
  // on their own, go with the stream that moved (append_conflict fails the statement).
  it('leaves nothing of an append over several streams when one has moved, with no transaction around it', async () => {
    const [fresh, stale] = [uniqueName('fresh'), uniqueName('stale')];
    const options = { topic: 't', metadata: meta, occurredAt: new Date() };
    await store.append(db.dataSource.manager, stale, 0, [contextCreated('a'), contextCreated('b')], options);
    await db.dataSource.query(`create table "${db.schema}".rider_rows (stream_id text)`);
    const rider = (events: readonly SpindleEvent[]) => ({
      with: [],
      statement: `insert into "${db.schema}".rider_rows select unnest($1::text[])`,
      params: [events.map((e) => e.streamId)],
    });
    await expect(
      store.appendMany(
        db.dataSource.manager,
        [
          { streamId: fresh, expectedPosition: 0, events: [contextCreated('c')], ...options },
          { streamId: stale, expectedPosition: 1, events: [contextCreated('d')], ...options },
        ],
        rider,
      ),
    ).rejects.toMatchObject({
      name: 'ConcurrencyError',
      streamId: stale,
      expectedPosition: 1,
      actualPosition: 2,
    });
    expect(await store.currentPosition(db.dataSource.manager, fresh)).toBe(0);
    expect(await countRows(db.dataSource, db.schema, 'rider_rows')).toBe(0);
    // The same append on the stream's real position: every part of it.
    await store.appendMany(
      db.dataSource.manager,
      [
        { streamId: fresh, expectedPosition: 0, events: [contextCreated('c')], ...options },
        { streamId: stale, expectedPosition: 2, events: [contextCreated('d')], ...options },
      ],
      rider,
    );
    expect(await store.currentPosition(db.dataSource.manager, fresh)).toBe(1);
    expect(await store.currentPosition(db.dataSource.manager, stale)).toBe(3);
    expect(await countRows(db.dataSource, db.schema, 'rider_rows')).toBe(2);
  });

  it.each([
    ['breaks its schema', { name: 'b', settings: { ...DEFAULT_CONTEXT_SETTINGS, maxJobs: 'many' } }],
    [
      'has a field its schema does not know',
      { name: 'b', settings: DEFAULT_CONTEXT_SETTINGS, colour: 'blue' },
    ],
  ])('refuses a batch in which one event %s, and writes none of it', async (_what, data) => {
    const streamId = uniqueName('stream');
    const options = { topic: 't', metadata: meta, occurredAt: new Date() };
    // What a buggy decision could produce past the compiler (data from JSON is untyped).
    const invalid: NewEvent = JSON.parse(JSON.stringify({ type: 'ContextCreated', version: 1, data }));
    const outboxBefore = await countRows(db.dataSource, db.schema, 'outbox');
    await expect(
      db.dataSource.transaction((m) =>
        store.appendMany(m, [
          { streamId: `${streamId}-a`, expectedPosition: 0, events: [contextCreated('a')], ...options },
          { streamId, expectedPosition: 0, events: [invalid], ...options },
        ]),
      ),
    ).rejects.toBeInstanceOf(InvalidEventError);
    expect(await store.currentPosition(db.dataSource.manager, `${streamId}-a`)).toBe(0);
    expect(await store.readStream(db.dataSource.manager, streamId)).toEqual([]);
    expect(await countRows(db.dataSource, db.schema, 'outbox')).toBe(outboxBefore);
  });
});

describe.each(buses)('backbone over the %s bus', (kind, makeBus) => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let bus: MessageBus;
  let store: PostgresEventStore;
  let relay: OutboxRelay;
  const runners: EventConsumerRunner[] = [];

  beforeAll(async () => {
    db = await createTestSchema(`bb_${kind.replace('-', '')}`, {
      entities: [StreamCount],
      migrations: (schema) => backboneMigrations(schema),
    });
    await db.dataSource.query(`create table "${db.schema}".stream_counts (
      stream_id text primary key, stream_position int not null, count int not null, last_type text not null)`);
    await db.dataSource.query(`create table "${db.schema}".applied (
      seq bigserial primary key, event_id uuid not null, stream_id text not null)`);
    bus = makeBus();
    store = new PostgresEventStore(db.schema);
    relay = new OutboxRelay(db.dataSource, bus, { schema: db.schema, pollMs: 20 });
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await relay.stop();
    await bus.close();
    // A started relay listens for the outbox's notifications on a connection of its own, kept
    // for the process (as an application's shutdown does, BackboneModule).
    await PgNotifications.closeAll();
    await db.drop();
  });

  async function topicName(): Promise<string> {
    const topic = uniqueName(`test.backbone.${kind}`);
    if (bus instanceof KafkaMessageBus) await bus.ensureTopics([topic, DEAD_LETTER_TOPIC]);
    return topic;
  }

  async function startRunner(
    consumer: EventConsumer,
    options: Partial<ConstructorParameters<typeof EventConsumerRunner>[3]> = {},
  ) {
    const runner = new EventConsumerRunner(db.dataSource, bus, consumer, {
      schema: db.schema,
      maxAttempts: 3,
      retryBaseMs: 5,
      ...options,
    });
    runners.push(runner);
    await runner.start();
    return runner;
  }

  async function appliedTo(streamId: string): Promise<number> {
    const [row] = await db.dataSource.query<{ n: number }[]>(
      `select count(*)::int as n from "${db.schema}".applied where stream_id = $1`,
      [streamId],
    );
    return row!.n;
  }

  async function append(streamId: string, topic: string, names: string[], expected = 0): Promise<void> {
    await db.dataSource.transaction((m) =>
      store.append(m, streamId, expected, names.map(contextCreated), {
        topic,
        metadata: meta,
        occurredAt: new Date(),
      }),
    );
  }

  async function streamCount(streamId: string): Promise<StreamCount | null> {
    return db.dataSource.getRepository(StreamCount).findOneBy({ streamId });
  }

  // Waits until the counting projection has applied the stream up to `position`.
  function countAt(streamId: string, position: number, what: string): Promise<StreamCount> {
    return eventually(
      async () => {
        const r = await streamCount(streamId);
        return r && r.streamPosition === position ? r : undefined;
      },
      20_000,
      what,
    );
  }

  it('carries an event appended with its outbox row to the bus and into a projection table', async () => {
    const topic = await topicName();
    const streamId = uniqueName('ctx');
    await startRunner(countingProjection(uniqueName('proj'), topic));
    await append(streamId, topic, ['a', 'b']);
    expect(await relay.drain()).toBe(2);

    const row = await countAt(streamId, 2, 'the projection');
    expect(row.count).toBe(2);
    expect(await countRows(db.dataSource, db.schema, 'outbox')).toBe(0);
    if (kind === 'kafka') {
      const records = await readKafkaTopic(topic, (r) => r.length >= 2);
      expect(records.map((r) => r.key)).toEqual([streamId, streamId]);
      expect(records.map((r) => JSON.parse(r.value).streamPosition)).toEqual([1, 2]);
      expect(records[0]!.headers['event-type']).toBe('ContextCreated');
    }
  });

  // The relay's statements on this suite's outbox, in order, from the moment this is called:
  // 'read' (a read of the next batch alone), 'delete' (a batch's delete, which reads the next one
  // too), 'any left' (a look for rows left, the relay's form before).
  function watchRelayStatements(): { sent: string[]; restore: () => void } {
    const sent: string[] = [];
    const query = db.dataSource.query.bind(db.dataSource);
    // All three arguments passed on: an EntityManager's query in a transaction names its runner.
    const spy = jest
      .spyOn(db.dataSource, 'query')
      .mockImplementation((sql: string, parameters?: unknown[], runner?: QueryRunner) => {
        if (sql.includes(`delete from "${db.schema}".outbox`)) sent.push('delete');
        else if (sql.startsWith('with horizon as')) sent.push('read');
        else if (sql.startsWith(`select 1 from "${db.schema}".outbox`)) sent.push('any left');
        return query(sql, parameters, runner);
      });
    return { sent, restore: () => spy.mockRestore() };
  }

  // Records every key the bus publishes, in order; `duringFirst` runs inside the first publish,
  // before it goes out (what lands meanwhile: a commit, an older transaction).
  function recordPublishes(duringFirst: () => Promise<void>): { keys: string[]; restore: () => void } {
    const keys: string[] = [];
    const publish = bus.publish.bind(bus);
    const spy = jest.spyOn(bus, 'publish').mockImplementation(async (batch) => {
      if (keys.length === 0) await duringFirst();
      const result = await publish(batch);
      keys.push(...batch.flatMap((t) => t.messages.map((m) => m.key ?? '')));
      return result;
    });
    return { keys, restore: () => spy.mockRestore() };
  }

  // A row added the way no relay hears of: no notification, no wake().
  async function insertUnannounced(topic: string, streamId: string): Promise<void> {
    await db.dataSource.query(
      `insert into "${db.schema}".outbox (topic, message_key, payload) values ($1, $2, $3::jsonb)`,
      [topic, streamId, JSON.stringify(envelope(streamId, 1, 'unannounced'))],
    );
  }

  it("takes rows committed during a publish with that batch's delete: one statement a batch, no empty read, no look for rows left", async () => {
    const topic = await topicName();
    const first = uniqueName('first');
    const second = uniqueName('second');
    // The first publish is slow enough for another commit to land during it.
    const { keys, restore: restorePublish } = recordPublishes(() => insertUnannounced(topic, second));
    await insertUnannounced(topic, first);
    const { sent, restore } = watchRelayStatements();
    // Nothing but its start wakes it (its poll is a minute away).
    const watched = new OutboxRelay(db.dataSource, bus, { schema: db.schema, pollMs: 60_000 });
    try {
      watched.start();
      await eventually(async () => (keys.includes(second) ? true : undefined), 20_000, 'the second row');
    } finally {
      await watched.stop();
      restore();
      restorePublish();
    }
    expect(keys).toEqual([first, second]);
    // Read the first; publish it; delete it and read the second; publish; delete and find none.
    expect(sent).toEqual(['read', 'delete', 'delete']);
    expect(await countRows(db.dataSource, db.schema, 'outbox')).toBe(0);
  });

  it('looks again soon, unwoken, at a row committed during a publish but held back by an older open transaction', async () => {
    const topic = await topicName();
    const first = uniqueName('first');
    const held = uniqueName('held');
    // An older transaction with an id, open until told: the row below is newer, so held back.
    let releaseOlder: () => void = () => undefined;
    const olderGo = new Promise<void>((r) => (releaseOlder = r));
    let olderStarted: () => void = () => undefined;
    const olderHasXid = new Promise<void>((r) => (olderStarted = r));
    let older: Promise<void> | undefined;
    const { keys, restore: restorePublish } = recordPublishes(async () => {
      older = db.dataSource.transaction(async (m) => {
        await m.query('select pg_current_xact_id()');
        olderStarted();
        await olderGo;
      });
      await olderHasXid;
      await insertUnannounced(topic, held);
    });
    await insertUnannounced(topic, first);
    const { sent, restore } = watchRelayStatements();
    const watched = new OutboxRelay(db.dataSource, bus, { schema: db.schema, pollMs: 60_000 });
    try {
      watched.start();
      // The delete after the first batch saw the held row; the relay reads again by itself.
      await eventually(async () => (sent.length >= 3 ? true : undefined), 20_000, 'a read after the delete');
      expect(keys).toEqual([first]);
      releaseOlder();
      await older;
      await eventually(async () => (keys.includes(held) ? true : undefined), 20_000, 'the held row');
    } finally {
      releaseOlder();
      await older;
      await watched.stop();
      restore();
      restorePublish();
    }
    expect(keys).toEqual([first, held]);
  });

  it('waits for open transactions that may write its outbox, not for those of a connection that names another schema', async () => {
    const topic = await topicName();
    // An open transaction with an id on a connection of its own, named as given.
    const openOn = async (applicationName: string): Promise<Client> => {
      const client = new Client({ connectionString: TEST_DATABASE_URL, application_name: applicationName });
      await client.connect();
      await client.query('begin');
      await client.query('select pg_current_xact_id()');
      return client;
    };
    const end = async (client: Client) => {
      await client.query('rollback');
      await client.end();
    };
    let published = 0;
    const publishedAll = (n: number) => async () =>
      (published += await relay.drain()) >= n ? true : undefined;
    // Another service's transaction (as the scheduler's, for the worker's outbox): the row goes
    // while it stays open. (Other suites' transactions on connections that name no schema may
    // hold it back a moment: they count.)
    const other = await openOn(applicationNameOf('scheduler', `${db.schema}_other`));
    try {
      await insertUnannounced(topic, uniqueName('passes'));
      await eventually(publishedAll(1), 10_000, 'the row, past the other schema’s open transaction');
    } finally {
      await end(other);
    }
    // One that may write this schema, named for it or naming none, holds it back until it ends.
    for (const name of [applicationNameOf('worker', db.schema), 'psql']) {
      const writer = await openOn(name);
      published = 0;
      try {
        await insertUnannounced(topic, uniqueName('held'));
        expect(await relay.drain()).toBe(0);
      } finally {
        await end(writer);
      }
      await eventually(publishedAll(1), 10_000, `the row held back by ${name}`);
    }
  });

  it('keeps consuming past more than one fetch worth of messages', async () => {
    const topic = await topicName();
    await startRunner(countingProjection(uniqueName('proj'), topic));
    // 3 MiB in 300 messages: kafkajs fetches at most 1 MiB per partition at a time.
    const padding = 'x'.repeat(10 * 1024);
    const streams = Array.from({ length: 300 }, () => uniqueName('bulk'));
    for (let i = 0; i < streams.length; i += 50) {
      await bus.publish([
        {
          topic,
          messages: streams.slice(i, i + 50).map((streamId) => {
            const event = envelope(streamId, 1, 'bulk');
            return {
              key: streamId,
              value: JSON.stringify({
                ...event,
                data: {
                  ...(event.data as object),
                  settings: { ...DEFAULT_CONTEXT_SETTINGS, config: { padding } },
                },
              }),
            };
          }),
        },
      ]);
    }
    await eventually(
      async () => {
        const [row] = await db.dataSource.query<{ n: number }[]>(
          `select count(*)::int as n from "${db.schema}".stream_counts where stream_id = any($1)`,
          [streams],
        );
        return row!.n === streams.length ? true : undefined;
      },
      30_000,
      'all 300 streams projected',
    );
  });

  it('changes the projection once when the same message is delivered twice', async () => {
    const topic = await topicName();
    const streamId = uniqueName('ctx');
    await startRunner(countingProjection(uniqueName('proj'), topic));
    const event = envelope(streamId, 1, 'dup');
    const message = { key: streamId, value: JSON.stringify(event) };
    await bus.publish([{ topic, messages: [message] }]);
    await bus.publish([{ topic, messages: [message] }]);
    // A later event proves both copies of the first were processed before we look.
    await bus.publish([
      { topic, messages: [{ key: streamId, value: JSON.stringify(envelope(streamId, 2, 'next')) }] },
    ]);

    const row = await countAt(streamId, 2, 'the projection');
    expect(row.count).toBe(2); // dup once + next once; three deliveries
  });

  // A stream projection's batch runs with no transaction (its writes in the claim's statement), so
  // rows worked out from a read before a later batch committed (a zombie consumer's) reach the table
  // late: they must not take the row back.
  it('takes no row back with a stream projection’s writes worked out before a later batch committed', async () => {
    const topic = await topicName();
    const streamId = uniqueName('ctx');
    const projection = countingProjection(uniqueName('proj'), topic);
    await startRunner(projection);
    const stale = await projection.writes!(
      [parseEvent(envelope(streamId, 1, 'first'))],
      db.dataSource.manager,
    );
    expect(stale).toHaveLength(1);
    await bus.publish([
      {
        topic,
        messages: ['first', 'second', 'third'].map((name, i) => ({
          key: streamId,
          value: JSON.stringify(envelope(streamId, i + 1, name)),
        })),
      },
    ]);
    expect((await countAt(streamId, 3, 'the projection')).count).toBe(3);
    await runStatements(db.dataSource.manager, stale);
    expect(await streamCount(streamId)).toMatchObject({ streamPosition: 3, count: 3 });
  });

  it('resumes with no loss and no double effect when a consumer dies after its rows commit but before the bus offset does', async () => {
    const topic = await topicName();
    const name = uniqueName('logger');
    const streamA = uniqueName('ctx');
    let crashes = 0;
    const first = await startRunner(loggingConsumer(db.schema, name, topic), {
      afterCommit: () => {
        crashes++;
        throw new SimulatedCrash('process died before committing the offset');
      },
    });
    await append(streamA, topic, ['1', '2', '3', '4', '5']);
    await relay.drain().catch(() => undefined); // in-process: the crash surfaces in publish
    await eventually(async () =>
      (await countRows(db.dataSource, db.schema, 'applied')) >= 5 ? true : undefined,
    );
    expect(crashes).toBeGreaterThanOrEqual(1);
    await first.stop();
    runners.splice(runners.indexOf(first), 1);

    // The replacement's group has no committed offsets: the bus redelivers everything.
    const streamB = uniqueName('ctx');
    await append(streamB, topic, ['6', '7', '8']);
    await startRunner(loggingConsumer(db.schema, name, topic), { groupId: uniqueName('after-crash') });
    await relay.drain();
    await eventually(async () =>
      (await countRows(db.dataSource, db.schema, 'applied')) >= 8 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    const rows = await db.dataSource.query<{ stream_id: string; n: number; distinct_events: number }[]>(
      `select stream_id, count(*)::int as n, count(distinct event_id)::int as distinct_events from "${db.schema}".applied group by stream_id`,
    );
    expect(rows.sort((a, b) => b.n - a.n)).toEqual([
      { stream_id: streamA, n: 5, distinct_events: 5 },
      { stream_id: streamB, n: 3, distinct_events: 3 },
    ]);
  });

  // Two members that both think they own a partition (a zombie and its replacement) apply the same
  // batches at once: the second claim of an event in the inbox waits for the first's commit and
  // then claims nothing, so each event is applied once, whoever gets there first.
  it('applies each event once when two runners of one consumer apply the same messages at once', async () => {
    const topic = await topicName();
    const name = uniqueName('twins');
    await startRunner(loggingConsumer(db.schema, name, topic), { groupId: uniqueName('twin-a') });
    await startRunner(loggingConsumer(db.schema, name, topic), { groupId: uniqueName('twin-b') });
    const streams = [uniqueName('ctx'), uniqueName('ctx'), uniqueName('ctx')];
    for (let i = 0; i < 10; i++) for (const streamId of streams) await append(streamId, topic, [`${i}`], i);
    await relay.drain();
    const applied = () =>
      db.dataSource.query<{ n: number; distinct_events: number }[]>(
        `select count(*)::int as n, count(distinct event_id)::int as distinct_events from "${db.schema}".applied
         where stream_id = any($1)`,
        [streams],
      );
    await eventually(
      async () => ((await applied())[0]!.n >= 30 ? true : undefined),
      20_000,
      'all 30 applied',
    );
    await new Promise((r) => setTimeout(r, 500)); // time for a second application to show
    expect(await applied()).toEqual([{ n: 30, distinct_events: 30 }]);
  });

  // A consumer that appends to streams in its own transaction (the scheduler's agent reports, through
  // the CommandEngine) can lose a race to another writer of those streams: the whole batch is applied
  // again on fresh state, in one transaction, not one event at a time.
  it('applies a batch again, whole, when its transaction lost a race', async () => {
    const topic = await topicName();
    const stream = uniqueName('ctx');
    const batches: string[][] = [];
    const inner = loggingConsumer(db.schema, uniqueName('racer'), topic);
    await startRunner({
      ...inner,
      async handle(events, manager) {
        batches.push(events.map((e) => (e.data as { name: string }).name));
        await inner.handle(events, manager);
        if (batches.length === 1) throw new ConcurrencyError(stream, 3, 4); // a rival moved it meanwhile
      },
    });
    await append(stream, topic, ['1', '2', '3']);
    await relay.drain();
    await eventually(async () => ((await appliedTo(stream)) === 3 ? true : undefined), 20_000, 'applied');
    expect(batches).toEqual([
      ['1', '2', '3'],
      ['1', '2', '3'],
    ]);
    await new Promise((r) => setTimeout(r, 300)); // time for a second application to show
    expect(await appliedTo(stream)).toBe(3);
  });

  it('feeds several consumers from one subscription, each by its own checkpoint: a batch delivered again after one of them failed is applied once by each', async () => {
    const [topicA, topicB] = [await topicName(), await topicName()];
    const [streamA, streamB] = [uniqueName('ctx'), uniqueName('ctx')];
    let crashes = 0;
    const runnerOf = (
      consumer: EventConsumer,
      options: Partial<ConstructorParameters<typeof EventConsumerRunner>[3]> = {},
    ) =>
      new EventConsumerRunner(db.dataSource, bus, consumer, {
        schema: db.schema,
        maxAttempts: 3,
        retryBaseMs: 5,
        ...options,
      });
    const group = new EventConsumerGroup(bus, uniqueName('group'), [
      // Applies topic A's batch, which then comes again: its checkpoint must keep it from a second time.
      runnerOf({ ...loggingConsumer(db.schema, uniqueName('logger'), topicA), topics: [topicA, topicB] }),
      // The second consumer of topic A dies once after its commit, before the bus offset.
      runnerOf(countingProjection(uniqueName('proj'), topicA), {
        afterCommit: () => {
          if (crashes++ === 0) throw new SimulatedCrash('process died before committing the offset');
        },
      }),
    ]);
    await group.start();
    try {
      await append(streamA, topicA, ['1', '2', '3']);
      await append(streamB, topicB, ['4', '5']);
      const appliedOf = (streamId: string) =>
        db.dataSource.query<{ n: number; distinct_events: number }[]>(
          `select count(*)::int as n, count(distinct event_id)::int as distinct_events from "${db.schema}".applied where stream_id = $1`,
          [streamId],
        );
      // In process, the crash surfaces in the relay's publish and the next drain sends it again.
      await eventually(
        async () => {
          await relay.drain().catch(() => undefined);
          const [a, b] = [await appliedOf(streamA), await appliedOf(streamB)];
          return a[0]!.n >= 3 && b[0]!.n >= 2 ? true : undefined;
        },
        20_000,
        'the logging consumer to apply both topics',
      );
      const counted = await countAt(streamA, 3, 'the counting projection');
      await new Promise((r) => setTimeout(r, 500)); // time for a second application to show
      expect(crashes).toBeGreaterThanOrEqual(1);
      expect((await streamCount(streamA))!.count).toBe(3);
      expect(counted.count).toBe(3);
      expect(await appliedOf(streamA)).toEqual([{ n: 3, distinct_events: 3 }]);
      expect(await appliedOf(streamB)).toEqual([{ n: 2, distinct_events: 2 }]);
    } finally {
      await group.stop();
    }
  });

  // Kafka only: the in-process bus has one partition a topic, and hands one batch at a time.
  (kind === 'kafka' ? it : it.skip)(
    "applies a fetch's batches of several partitions together: one statement per consumer, every partition's checkpoint in it",
    async () => {
      const partitioned = new KafkaMessageBus({
        brokers: TEST_KAFKA_BROKERS,
        clientId: 'spindle-test',
        partitions: 3,
      });
      const topic = uniqueName(`test.backbone.${kind}`);
      await partitioned.ensureTopics([topic, DEAD_LETTER_TOPIC]);
      // Twelve streams, each its own key: spread over the three partitions, all published before
      // the group joins, so its first fetch brings a batch of each partition.
      const streams = Array.from({ length: 12 }, () => uniqueName('ctx'));
      for (const streamId of streams) await append(streamId, topic, ['x']);
      await relay.drain();
      const consumer = countingProjection(uniqueName('proj'), topic);
      const group = new EventConsumerGroup(partitioned, uniqueName('group'), [
        new EventConsumerRunner(db.dataSource, partitioned, consumer, {
          schema: db.schema,
          maxAttempts: 3,
          retryBaseMs: 5,
        }),
      ]);
      await group.start();
      try {
        for (const streamId of streams) await countAt(streamId, 1, `the projection of ${streamId}`);
        const checkpoints = await db.dataSource.query<{ partition: number; at: string }[]>(
          `select partition, updated_at::text as at from "${db.schema}".consumer_checkpoints where consumer = $1`,
          [consumer.name],
        );
        expect(checkpoints.length).toBeGreaterThan(1);
        // One statement: every checkpoint written at its transaction's start time (to the
        // microsecond), the same one.
        expect(new Set(checkpoints.map((c) => c.at)).size).toBe(1);
        for (const streamId of streams) expect((await streamCount(streamId))!.count).toBe(1);
      } finally {
        await group.stop();
        await partitioned.close();
      }
    },
  );

  it('dead-letters a poison message after N attempts and carries on', async () => {
    const topic = await topicName();
    const name = uniqueName('poison');
    const consumer = loggingConsumer(
      db.schema,
      name,
      topic,
      (e) => (e.data as { name: string }).name === 'poison',
    );
    const deadLetters: DeliveredMessage[] = [];
    const collector = await bus.subscribe(
      { groupId: uniqueName('dlq-reader'), topics: [DEAD_LETTER_TOPIC], fromBeginning: kind === 'kafka' },
      async (batch) => {
        deadLetters.push(...batch.messages.filter((m) => m.headers['dlq-consumer'] === name));
      },
    );
    try {
      await startRunner(consumer, { maxAttempts: 3 });
      const streamId = uniqueName('ctx');
      await bus.publish([
        {
          topic,
          messages: [
            { key: streamId, value: JSON.stringify(envelope(streamId, 1, 'good-1')) },
            { key: streamId, value: JSON.stringify(envelope(streamId, 2, 'poison')) },
            { key: streamId, value: '{not json' },
            { key: streamId, value: JSON.stringify(envelope(streamId, 3, 'good-2')) },
          ],
        },
      ]);
      await eventually(async () => (deadLetters.length >= 2 ? true : undefined), 20_000, 'two dead letters');
      // The good event after the poison ones is applied: the consumer carried on.
      const applied = await eventually(
        async () => {
          const rows = await db.dataSource.query<unknown[]>(
            `select e.event_id from "${db.schema}".applied e where e.stream_id = $1 order by seq`,
            [streamId],
          );
          return rows.length >= 2 ? rows : undefined;
        },
        20_000,
        'the good events',
      );
      expect(applied).toHaveLength(2);
      const poison = deadLetters.find((m) => m.value.includes('"poison"'))!;
      expect(poison.headers).toMatchObject({
        'dlq-consumer': name,
        'dlq-original-topic': topic,
        'dlq-attempts': '3',
        'dlq-error': 'cannot handle poison',
      });
      const unreadable = deadLetters.find((m) => m.value === '{not json')!;
      expect(unreadable.headers['dlq-attempts']).toBe('1');
      // One batch attempt, then three single attempts for the poison message.
      expect(consumer.calls).toBeGreaterThanOrEqual(4);
    } finally {
      await collector.stop();
    }
  });

  it('publishes everything, in per-stream order, when transactions commit out of sequence order', async () => {
    const topic = await topicName();
    await startRunner(countingProjection(uniqueName('proj'), topic));
    const options = { topic, metadata: meta, occurredAt: new Date() };
    const early = uniqueName('early');
    const late = uniqueName('late');

    // T1 takes the lower outbox position but commits after T2.
    let releaseT1: () => void = () => undefined;
    const t1Held = new Promise<void>((r) => (releaseT1 = r));
    let t1Wrote: () => void = () => undefined;
    const t1HasWritten = new Promise<void>((r) => (t1Wrote = r));
    const t1 = db.dataSource.transaction(async (m) => {
      await store.append(m, early, 0, [contextCreated('early')], options);
      t1Wrote();
      await t1Held;
    });
    await t1HasWritten;
    await db.dataSource.transaction((m) => store.append(m, late, 0, [contextCreated('late')], options));

    // While T1 is open nothing after its position may go out, or T1's row would be skipped.
    // (Released whatever happens: an open transaction holds back every relay on the server.)
    try {
      expect(await relay.drain()).toBe(0);
    } finally {
      releaseT1();
      await t1;
    }
    expect(await relay.drain()).toBe(2);
    await eventually(
      async () => ((await streamCount(early)) && (await streamCount(late)) ? true : undefined),
      20_000,
      'both streams',
    );

    // Same stream, out of order: B starts first but appends position 2 after A's position 1
    // commits, while an unrelated transaction C keeps the horizon between them.
    const shared = uniqueName('shared');
    let releaseB: () => void = () => undefined;
    const bGo = new Promise<void>((r) => (releaseB = r));
    let releaseC: () => void = () => undefined;
    const cHeld = new Promise<void>((r) => (releaseC = r));
    let bStarted: () => void = () => undefined;
    const bHasXid = new Promise<void>((r) => (bStarted = r));
    let cStarted: () => void = () => undefined;
    const cHasXid = new Promise<void>((r) => (cStarted = r));
    const b = db.dataSource.transaction(async (m) => {
      await m.query('select pg_current_xact_id()');
      bStarted();
      await bGo;
      await store.append(m, shared, 1, [contextCreated('second')], options);
    });
    await bHasXid;
    const c = db.dataSource.transaction(async (m) => {
      await m.query('select pg_current_xact_id()');
      cStarted();
      await cHeld;
    });
    await cHasXid;
    await db.dataSource.transaction((m) => store.append(m, shared, 0, [contextCreated('first')], options));
    releaseB();
    await b;
    // B's row is older than the horizon, A's is not: B must wait for A.
    try {
      expect(await relay.drain()).toBe(0);
    } finally {
      releaseC();
      await c;
    }
    expect(await relay.drain()).toBe(2);
    const row = await countAt(shared, 2, 'the shared stream');
    // Position 1 was applied before 2; had 2 come first, the guard would have dropped 1.
    expect(row.count).toBe(2);
    if (kind === 'kafka') {
      const records = await readKafkaTopic(topic, (r) => r.filter((x) => x.key === shared).length >= 2);
      expect(records.filter((r) => r.key === shared).map((r) => JSON.parse(r.value).streamPosition)).toEqual([
        1, 2,
      ]);
    }
  });
});
