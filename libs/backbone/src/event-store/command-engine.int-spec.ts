import type { DataSource, EntityManager } from 'typeorm';
import { DEFAULT_CONTEXT_SETTINGS, commandError } from '@spindle/contracts';
import type { CommandResult, NewEvent, SpindleEvent } from '@spindle/contracts';
import { createTestSchema, uniqueName, waitForLockWaiters } from '@spindle/testing';
import { backboneMigrations } from '../database/idempotency-keys.migration';
import { ADVISORY_LOCK_CLASS } from '../database/advisory-locks';
import { CommandEngine, commandFor, isLostRace } from './command-engine';
import type { CommandEntity, Preparation } from './command-engine';
import { idempotencyOf } from './idempotency';
import { PostgresEventStore } from './postgres-event-store';

// A counter per stream: each `add` records the running total it reached, so an event shows the
// state it was decided on. Totals past 10 are refused. The event store takes registered events
// only, so the total rides in a context's settings (maxJobs) on a stream of the test's own.
const counted = (total: number): NewEvent => ({
  type: 'ContextSettingsChanged',
  version: 1,
  data: { name: 'counter', settings: { ...DEFAULT_CONTEXT_SETTINGS, maxJobs: total } },
});
const totalOf = (event: SpindleEvent): number =>
  event.type === 'ContextSettingsChanged' ? event.data.settings.maxJobs : 0;

type Add = { readonly kind: 'add'; readonly id: string; readonly n: number };
const counters: CommandEntity<Add, number> = {
  topic: 'spindle.test.counter.v1',
  streamIdOf: (c) => `counter-${c.id}`,
  decider: {
    initialState: 0,
    evolve: (total, event) => totalOf(event) || total,
    decide: (c, total) =>
      total + c.n > 10
        ? commandError('conflict', `counter ${c.id} would pass 10`)
        : c.n === 0
          ? []
          : [counted(total + c.n)],
  },
};

const meta = { correlationId: 'test', causationId: null };
const add = (id: string, n: number, key?: string) =>
  commandFor(
    counters,
    { kind: 'add', id, n },
    meta,
    new Date(),
    idempotencyOf(counters.topic, 'add', key, { id, n }),
  );

// The one decide-and-append engine on a real Postgres: batches decided in order, lost races decided
// again, idempotency keys, and the caller's transaction.
describe('the command engine', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let engine: CommandEngine;
  let commits = 0;

  beforeAll(async () => {
    db = await createTestSchema('engine', {
      migrations: (schema) => backboneMigrations(schema),
    });
    dataSource = db.dataSource;
    store = new PostgresEventStore(db.schema);
    await dataSource.query(`create table "${db.schema}".effects (stream_id text, total int)`);
    await dataSource.query(`create table "${db.schema}".effects_after (stream_id text, total int)`);
    engine = new CommandEngine(dataSource, store, {
      // The owner's own state, kept beside the streams in the same transaction: one write in the
      // append's own statement (numbered from $1 over its own parameters, after the append's),
      // one after it.
      stateOf: (appended) => ({
        riding: {
          with: ['rows as (select * from unnest($1::text[], $2::int[]))'],
          statement: `insert into "${db.schema}".effects select * from rows`,
          params: [appended.map((e) => e.streamId), appended.map(totalOf)],
        },
        after: async (manager) => {
          await manager.query(
            `insert into "${db.schema}".effects_after select * from unnest($1::text[], $2::int[])`,
            [appended.map((e) => e.streamId), appended.map(totalOf)],
          );
        },
      }),
      onCommitted: () => commits++,
    });
  });
  afterAll(() => db.drop());

  const totals = async (id: string): Promise<number[]> =>
    (await dataSource.transaction((m) => store.readStream(m, `counter-${id}`))).map(totalOf);
  const count = async (table: string, streamId: string, column = 'stream_id'): Promise<number> => {
    const [row] = await dataSource.query<{ n: number }[]>(
      `select count(*)::int as n from "${db.schema}".${table} where ${column} = $1`,
      [streamId],
    );
    return row!.n;
  };

  it('decides each command of a batch in order, on what the earlier ones decided', async () => {
    const [a, b] = [uniqueName('a'), uniqueName('b')];
    const results = await engine.runMany([add(a, 4), add(b, 1), add(a, 5), add(a, 2), add(b, 0)]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true]);
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(results[4]).toEqual({ ok: true, streamId: `counter-${b}`, streamPosition: 1 });
    expect(await totals(a)).toEqual([4, 9]);
    expect(await count('effects', `counter-${a}`)).toBe(2);
    expect(await count('effects_after', `counter-${a}`)).toBe(2);
    expect(await count('outbox', `counter-${a}`, 'message_key')).toBe(2);
  });

  it('decides a batch again when another writer moved one of its streams meanwhile', async () => {
    const [raced, other] = [uniqueName('raced'), uniqueName('other')];
    await engine.runMany([add(raced, 1), add(other, 1)]);
    // Another writer appends to `raced` and holds its stream's lock while the batch decides.
    const rival = dataSource.createQueryRunner();
    await rival.connect();
    await rival.startTransaction();
    await store.append(rival.manager, `counter-${raced}`, 1, [counted(8)], {
      topic: counters.topic,
      metadata: meta,
      occurredAt: new Date(),
    });
    const batch = engine.runMany([add(other, 2), add(raced, 2), add(raced, 1)]);
    await waitForLockWait(dataSource, db.schema);
    await rival.commitTransaction();
    await rival.release();
    const results = await batch;
    // Decided on the rival's 8, not on the 1 the batch first read: 10, then 11 is refused.
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(await totals(raced)).toEqual([1, 8, 10]);
    expect(await totals(other)).toEqual([1, 3]);
    // The lost attempt's own state went with it (its statement wrote the riding part; the append
    // failed it): the first batch's row and the 10.
    expect(await count('effects', `counter-${raced}`)).toBe(2);
    expect(await count('effects_after', `counter-${raced}`)).toBe(2);
  });

  it('answers idempotency twins in one batch with the first one’s answer, and a changed request with a refusal', async () => {
    const id = uniqueName('twins');
    const key = uniqueName('key');
    const [first, twin, changed] = await engine.runMany([add(id, 3, key), add(id, 3, key), add(id, 4, key)]);
    expect(first).toMatchObject({ ok: true, streamPosition: 1 });
    expect(twin).toEqual(first);
    expect(changed).toMatchObject({ ok: false, error: { code: 'invalid', field: 'Idempotency-Key' } });
    expect(await totals(id)).toEqual([3]);
    // Later, alone or in another batch: the recorded answer again, no second effect.
    const [again] = await engine.runMany([add(id, 3, key), add(id, 1)]);
    expect(again).toEqual(JSON.parse(JSON.stringify(first)));
    expect(await engine.run(add(id, 3, key))).toEqual(again);
    expect(await totals(id)).toEqual([3, 4]);
  });

  // Two first requests at once that register one function under one key: the second must not
  // read no answer, then the first's effect, and refuse it ("already exists"). The key stays the
  // first batch's until it commits.
  it('keeps a batch’s idempotency keys to itself until it commits: a twin on another connection waits, then gets its answer', async () => {
    const id = uniqueName('twin-elsewhere');
    const twin = add(id, 10, uniqueName('key'));
    let reached!: () => void;
    const settled = new Promise<void>((r) => (reached = r));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // Holds the first batch past its keys' check, before it decides.
    const held: Preparation = {
      prepare: async (_manager, batch) => {
        reached();
        await gate;
        return batch;
      },
    };
    const first = engine.run(twin, undefined, held);
    await settled;
    const took = await dataSource.transaction(async (m) => {
      const [row] = await m.query<{ took: boolean }[]>(
        'select pg_try_advisory_xact_lock($1, hashtext($2)) as took',
        [ADVISORY_LOCK_CLASS.idempotencyKey, twin.idempotency!.key],
      );
      return row!.took;
    });
    expect(took).toBe(false);
    const second = engine.run(twin);
    await waitForLockWaiters(dataSource, 'advisory');
    open();
    const answer = await first;
    expect(answer).toMatchObject({ ok: true, streamPosition: 1 });
    // Deciding on the first's 10 it would have refused (a total past 10): it answers as the first.
    expect(await second).toEqual(JSON.parse(JSON.stringify(answer)));
    expect(await totals(id)).toEqual([10]);
  });

  it('commits its effects with the caller’s transaction, and rolls them back with it', async () => {
    const [kept, dropped] = [uniqueName('kept'), uniqueName('dropped')];
    const before = commits;
    const inCallers = async (id: string, commit: boolean): Promise<void> => {
      const caller = dataSource.createQueryRunner();
      await caller.connect();
      await caller.startTransaction();
      await caller.manager.query(`insert into "${db.schema}".effects values ($1, -1)`, [`counter-${id}`]);
      const results = await engine.runMany([add(id, 2, `${id}-key`), add(id, 3)], caller.manager);
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      // Not committed yet: nobody else sees the events.
      expect(await totals(id)).toEqual([]);
      await (commit ? caller.commitTransaction() : caller.rollbackTransaction());
      await caller.release();
    };
    await inCallers(kept, true);
    await inCallers(dropped, false);
    expect(await totals(kept)).toEqual([2, 5]);
    expect(await count('effects', `counter-${kept}`)).toBe(3);
    expect(await count('outbox', `counter-${kept}`, 'message_key')).toBe(2);
    expect(await totals(dropped)).toEqual([]);
    expect(await count('effects', `counter-${dropped}`)).toBe(0);
    expect(await count('outbox', `counter-${dropped}`, 'message_key')).toBe(0);
    expect(await count('idempotency_keys', `${counters.topic}:add:${dropped}-key`, 'key')).toBe(0);
    // The caller commits, so the caller says so.
    expect(commits).toBe(before);
  });

  // No savepoint per call (two statements): a lost race fails the caller's transaction, and the
  // caller runs it all again on fresh state (an EventConsumerRunner retries its batch).
  it('lets a lost race fail the caller’s transaction, for the caller to run again on fresh state', async () => {
    const id = uniqueName('saved');
    await engine.run(add(id, 1));
    const inCaller = async (rivalFirst?: () => Promise<void>): Promise<CommandResult[]> => {
      const caller = dataSource.createQueryRunner();
      await caller.connect();
      await caller.startTransaction();
      try {
        await caller.manager.query(`insert into "${db.schema}".effects values ($1, -1)`, [`counter-${id}`]);
        const decided = engine.runMany([add(id, 2), add(id, 2)], caller.manager);
        await rivalFirst?.();
        const results = await decided;
        await caller.commitTransaction();
        return results;
      } catch (e) {
        await caller.rollbackTransaction();
        throw e;
      } finally {
        await caller.release();
      }
    };
    const rival = dataSource.createQueryRunner();
    await rival.connect();
    await rival.startTransaction();
    await store.append(rival.manager, `counter-${id}`, 1, [counted(5)], {
      topic: counters.topic,
      metadata: meta,
      occurredAt: new Date(),
    });
    const lost = await inCaller(async () => {
      await waitForLockWait(dataSource, db.schema);
      await rival.commitTransaction();
      await rival.release();
    }).catch((e: unknown) => e);
    expect(isLostRace(lost)).toBe(true);
    expect(await totals(id)).toEqual([1, 5]);
    expect((await inCaller()).map((r) => r.ok)).toEqual([true, true]);
    expect(await totals(id)).toEqual([1, 5, 7, 9]);
    // 1, the second attempt's own row, 7 and 9: the first attempt's row went with it, and the
    // rival wrote its 5 without the engine.
    expect(await count('effects', `counter-${id}`)).toBe(4);
  });

  it('gathers commands that come one at a time into shared transactions, each answered on its own', async () => {
    const submits = engine.groupCommit({ maxInFlight: 2 });
    const before = commits;
    const ids = Array.from({ length: 40 }, () => uniqueName('grouped'));
    const results = await Promise.all([
      ...ids.map((id) => submits.add(add(id, 1))),
      submits.add(add(ids[0]!, 20)),
    ]);
    expect(results.slice(0, 40).every((r) => r.ok)).toBe(true);
    expect(results[40]).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(commits - before).toBeLessThan(40);
    expect(await totals(ids[39]!)).toEqual([1]);
  });

  it('sends what is not a lost race to the caller', async () => {
    const broken = new CommandEngine(dataSource, store, {
      stateOf: () => ({
        after: async (manager: EntityManager) => {
          await manager.query('select * from no_such_table');
        },
      }),
    });
    await expect(broken.run(add(uniqueName('broken'), 1))).rejects.toThrow(/no_such_table/);
    const brokenRider = new CommandEngine(dataSource, store, {
      stateOf: () => ({ riding: { with: [], statement: 'select * from no_such_rider', params: [] } }),
    });
    const id = uniqueName('broken');
    await expect(brokenRider.run(add(id, 1))).rejects.toThrow(/no_such_rider/);
    expect(await totals(id)).toEqual([]);
  });
});

async function waitForLockWait(dataSource: DataSource, schema: string): Promise<void> {
  for (;;) {
    const [row] = await dataSource.query<{ n: number }[]>(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and query like $1`,
      [`%"${schema}".streams%`],
    );
    if (row!.n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
