import type { DataSource } from 'typeorm';
import { jobStreamId, newEventId } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import {
  EventConsumerRunner,
  InProcessMessageBus,
  backboneMigrations,
  openServiceDataSource,
  toEvent,
} from '@spindle/backbone';
import type { EventRow } from '@spindle/backbone';
import { PROJECTOR_SCHEMA } from '@spindle/read-models';
import { createTestDatabase } from '@spindle/testing';
import { PROJECTOR_ENTITIES, PROJECTOR_MIGRATIONS } from '../projector.module';
import { jobRowsProjection, jobsProjection } from '../projections/jobs/jobs.projection';
import { ProjectionRebuild } from './projection-rebuild';

const SHA = 'a'.repeat(64);
const program = { artifact: 'noop.js', sha256: SHA, entrypoint: 'main', runtime: 'node' as const };

// A job's events as the scheduler records them: submitted, then as far along as `steps` says.
function jobEvents(
  id: string,
  steps: number,
  at = Date.parse('2026-12-01T10:00:00Z'),
): Omit<EventRow, never>[] {
  const streamId = jobStreamId(id);
  const task = { function: 'f', context: 'default', args: { n: 1 }, program, performTimeoutMs: null };
  const data = [
    {
      type: 'JobSubmitted',
      data: {
        id,
        function: 'f',
        context: 'default',
        args: { n: 1 },
        program,
        externalId: null,
        startTimeoutMs: 60_000,
        performTimeoutMs: null,
        source: 'http',
        retries: 0,
      },
    },
    { type: 'JobAssigned', data: { id, workerId: 'w1', hostId: 'h1', task } },
    { type: 'JobStarted', data: { id, workerId: 'w1', pid: 4242 } },
    { type: 'JobSucceeded', data: { id, result: { ok: id }, log: { lines: 3, bytes: 30 } } },
  ].slice(0, steps);
  return data.map((e, i) => ({
    event_id: newEventId(),
    stream_id: streamId,
    stream_position: i + 1,
    type: e.type,
    version: 1,
    data: e.data,
    correlation_id: 'test',
    causation_id: null,
    occurred_at: new Date(at + i * 1_000),
  }));
}

// The rebuild against a real Postgres: the owner's event store in `scheduler`, the read model in
// `projector`, both in a database of the test's own.
describe('a projection rebuild', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let scheduler: DataSource;
  let projector: DataSource;
  const jobs = 'projector.jobs_v1';

  beforeAll(async () => {
    db = await createTestDatabase('spindle_t_rebuild');
    scheduler = await openServiceDataSource({
      name: 'scheduler-test',
      schema: 'scheduler',
      url: db.url,
      entities: [],
      migrations: backboneMigrations('scheduler'),
    });
    projector = await openServiceDataSource({
      name: 'projector-test',
      schema: PROJECTOR_SCHEMA,
      url: db.url,
      entities: PROJECTOR_ENTITIES,
      migrations: PROJECTOR_MIGRATIONS,
    });
  });

  afterAll(async () => {
    await projector?.destroy();
    await scheduler?.destroy();
    await db?.drop();
  });

  beforeEach(async () => {
    await scheduler.query('truncate scheduler.events');
    await projector.query(`truncate ${jobs}, projector.feed_v1, projector.consumer_inbox`);
  });

  // Records events in the owner's store; a row may name its global position (to leave a gap
  // that a late-committing transaction fills afterwards).
  async function record(rows: (EventRow & { global_position?: number })[]): Promise<SpindleEvent[]> {
    for (const r of rows) {
      const columns = [
        'event_id',
        'stream_id',
        'stream_position',
        'type',
        'version',
        'data',
        'correlation_id',
        'causation_id',
        'occurred_at',
      ];
      const values: unknown[] = [
        r.event_id,
        r.stream_id,
        r.stream_position,
        r.type,
        r.version,
        JSON.stringify(r.data),
        r.correlation_id,
        r.causation_id,
        r.occurred_at,
      ];
      if (r.global_position !== undefined) {
        columns.push('global_position');
        values.push(r.global_position);
      }
      await scheduler.query(
        `insert into scheduler.events (${columns.join(', ')}) values (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
        values,
      );
    }
    return rows.map((r) => toEvent(r));
  }

  // What the live projector does with delivered events: its own consumer runner (rows, feed,
  // checkpoint and inbox in one transaction), handed the events as the bus would deliver them.
  let offset = 0;
  function project(events: readonly SpindleEvent[]): Promise<void> {
    const runner = new EventConsumerRunner(projector, new InProcessMessageBus(), jobsProjection, {
      schema: PROJECTOR_SCHEMA,
      maxAttempts: 1,
    });
    const topic = jobsProjection.topics[0]!;
    return runner.handleBatch({
      topic,
      topicId: null,
      partition: 0,
      messages: events.map((e) => ({
        topic,
        partition: 0,
        offset: String(++offset),
        key: e.streamId,
        value: JSON.stringify(e),
        headers: {},
      })),
    });
  }

  async function tableRows(): Promise<Record<string, unknown>[]> {
    return projector.query(`select * from ${jobs} order by stream_id`);
  }

  async function indexesOf(): Promise<string[]> {
    const rows: { indexdef: string }[] = await projector.query(
      `select indexdef from pg_indexes where schemaname = 'projector' and tablename = 'jobs_v1' order by indexname`,
    );
    return rows.map((r) => r.indexdef);
  }

  it('replays the event store into the same rows the live projection made, with the same indexes', async () => {
    const ids = Array.from({ length: 40 }, () => newEventId());
    // Interleaved as jobs run side by side: every submit, then every assignment, and so on.
    const lifecycles = ids.map((id, i) => jobEvents(id, 1 + (i % 4)));
    for (let step = 0; step < 4; step++)
      await project(await record(lifecycles.flatMap((events) => events.slice(step, step + 1))));
    const expected = await tableRows();
    const indexes = await indexesOf();
    expect(expected).toHaveLength(40);

    // The read model went wrong: rows lost, a row with a wrong state.
    await projector.query(`delete from ${jobs} where stream_id in ($1, $2)`, [
      jobStreamId(ids[0]!),
      jobStreamId(ids[7]!),
    ]);
    await projector.query(`update ${jobs} set state = 'failed' where stream_id = $1`, [jobStreamId(ids[3]!)]);

    // Small batches and a small cache: rows are written, forgotten and read back mid-load.
    const report = await new ProjectionRebuild(projector, jobRowsProjection, {
      batchSize: 7,
      cacheRows: 6,
    }).run();

    expect(await tableRows()).toEqual(expected);
    expect(await indexesOf()).toEqual(indexes);
    expect(report).toMatchObject({ table: '"projector"."jobs_v1"', events: 100, rows: 40, invalidEvents: 0 });
    const leftovers: unknown[] = await projector.query(
      `select tablename from pg_tables where schemaname = 'projector' and tablename like '%rebuild%'`,
    );
    expect(leftovers).toEqual([]);
  });

  it('replays whole a stream whose event committed behind the scan, when the live table has it', async () => {
    const late = newEventId();
    const [submitted, assigned] = jobEvents(late, 2);
    // Position 2 is taken by a transaction that commits only after the scan has passed it.
    await project(await record([{ ...submitted!, global_position: 1 }]));
    const others = jobEvents(newEventId(), 4).map((e, i) => ({ ...e, global_position: 3 + i }));
    await project(await record(others));

    const report = await new ProjectionRebuild(projector, jobRowsProjection, {
      batchSize: 2,
      beforeSwap: async () => {
        // ...and the live projector applied it before the swap.
        await project(await record([{ ...assigned!, global_position: 2 }]));
      },
    }).run();

    expect(report.refolded).toBe(1);
    const [row] = await projector.query<{ state: string; stream_position: number }[]>(
      `select state, stream_position from ${jobs} where stream_id = $1`,
      [jobStreamId(late)],
    );
    expect(row).toEqual({ state: 'starting', stream_position: 2 });
  });

  it('lets the live projector write through the swap: its transactions wait, then land in the new table', async () => {
    await project(await record(jobEvents(newEventId(), 4)));
    const busy = newEventId();
    const busyEvents = await record(jobEvents(busy, 3));
    const later = newEventId();
    const laterEvents = await record(jobEvents(later, 4));
    let writerDone: Promise<void> | undefined;
    let release: () => void = () => undefined;
    let inFlight: Promise<void> | undefined;

    const report = await new ProjectionRebuild(projector, jobRowsProjection, {
      beforeSwap: async () => {
        // A projector transaction in flight when the swap starts: the swap's lock waits for it...
        const opened = new Promise<void>((resolveOpened) => {
          inFlight = projector.transaction(async (manager) => {
            await jobRowsProjection.handle(busyEvents, manager);
            resolveOpened();
            await new Promise<void>((r) => (release = r));
          });
        });
        await opened;
        // ...and one that starts while the swap waits queues behind it.
        setTimeout(() => {
          writerDone = project(laterEvents);
        }, 100);
        setTimeout(() => release(), 300);
      },
    }).run();

    await inFlight;
    await new Promise((r) => setTimeout(r, 150));
    await writerDone; // no "relation does not exist": it resolved the renamed table
    expect(report.swapAttempts).toBe(1);
    const states = await projector.query<{ stream_id: string; state: string }[]>(
      `select stream_id, state from ${jobs} order by stream_id`,
    );
    expect(states).toHaveLength(3);
    expect(states.find((s) => s.stream_id === jobStreamId(busy))?.state).toBe('running');
    expect(states.find((s) => s.stream_id === jobStreamId(later))?.state).toBe('succeeded');
  });

  it('gives each feed entry the worker as of its change, when a whole life is projected in one batch', async () => {
    // Delivered together, the submit is projected after the row already names its worker.
    await project(await record(jobEvents(newEventId(), 4)));
    const feed = await projector.query<{ type: string; worker_id: string | null }[]>(
      'select type, worker_id from projector.feed_v1 order by seq',
    );
    expect(feed).toEqual([
      { type: 'JobSubmitted', worker_id: null },
      { type: 'JobAssigned', worker_id: 'w1' },
      { type: 'JobStarted', worker_id: 'w1' },
      { type: 'JobSucceeded', worker_id: 'w1' },
    ]);
  });

  it('refuses a second rebuild of the same table while one runs', async () => {
    await project(await record(jobEvents(newEventId(), 2)));
    let second: Promise<unknown> | undefined;
    await new ProjectionRebuild(projector, jobRowsProjection, {
      beforeSwap: async () => {
        second = new ProjectionRebuild(projector, jobRowsProjection).run();
        await second.catch(() => undefined);
      },
    }).run();
    await expect(second).rejects.toThrow('a rebuild of "projector"."jobs_v1" is already running');
  });
});
