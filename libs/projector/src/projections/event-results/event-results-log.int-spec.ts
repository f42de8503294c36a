import type { DataSource } from 'typeorm';
import type { MapResult } from '@spindle/contracts';
import { openServiceDataSource } from '@spindle/backbone';
import { EventResultsQuery, MAX_EVENT_RESULTS, PROJECTOR_SCHEMA } from '@spindle/read-models';
import { createTestDatabase } from '@spindle/testing';
import { PROJECTOR_ENTITIES, PROJECTOR_MIGRATIONS } from '../../projector.module';
import { appendEventResults } from './event-results-log';

const map = (value: number, dedup: string | null = null) => ({
  result: { type: 'map', id: 'votes', key: ['red'], value, at: '2026-12-03T10:00:00.000Z' } as MapResult,
  dedup,
});

// Genvid's events results log on a real Postgres: counters in commit order, redeliveries
// recognised, the newest results kept, a reset after a quiet spell.
describe('events results log', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let projector: DataSource;
  let query: EventResultsQuery;
  // A reader that comes often enough for the log never to reset.
  const after = (counter: number) => query.after(counter, 60_000);

  beforeAll(async () => {
    db = await createTestDatabase('spindle_t_event_results');
    projector = await openServiceDataSource({
      name: 'projector-event-results-test',
      schema: PROJECTOR_SCHEMA,
      url: db.url,
      entities: PROJECTOR_ENTITIES,
      migrations: PROJECTOR_MIGRATIONS,
    });
    query = new EventResultsQuery(projector);
  });

  afterAll(async () => {
    await projector?.destroy();
    await db?.drop();
  });

  beforeEach(async () => {
    await projector.query(`truncate "${PROJECTOR_SCHEMA}".event_results_v1`);
    await projector.query(`update "${PROJECTOR_SCHEMA}".event_results_head_v1 set counter = 0`);
    await projector.query(
      `update "${PROJECTOR_SCHEMA}".event_results_reads_v1 set last_read_at = null, reset_counter = 0`,
    );
  });

  it('numbers appends in commit order: a reader never sees a counter before the ones below it', async () => {
    const first = projector.createQueryRunner();
    await first.connect();
    await first.startTransaction();
    await appendEventResults(first.manager, [map(1), map(2)]);
    // a second writer waits for the first to commit, and a reader sees neither meanwhile
    const second = projector.transaction((manager) => appendEventResults(manager, [map(3)]));
    await new Promise((r) => setTimeout(r, 300));
    expect(await after(0)).toEqual({ counter: 0, messages: [] });
    await first.commitTransaction();
    await first.release();
    await second;

    const log = await after(0);
    expect(log.counter).toBe(3);
    expect(log.messages.map((m) => [m.counter, (m as MapResult).value])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect((await after(2)).messages.map((m) => m.counter)).toEqual([3]);
    expect(await after(3)).toEqual({ counter: 3, messages: [] });
    // a counter past the end (another database's) reads from the start
    expect((await after(99)).messages).toHaveLength(3);
  });

  it('adds nothing for a result whose key it has, and keeps the counter where it was', async () => {
    await projector.transaction((m) =>
      appendEventResults(m, [map(1, 'job-1:4:votes'), map(2, 'job-1:5:votes')]),
    );
    await projector.transaction((m) =>
      appendEventResults(m, [map(1, 'job-1:4:votes'), map(2, 'job-1:5:votes'), map(7, 'job-1:9:votes')]),
    );
    const log = await after(0);
    expect(log.messages.map((m) => [m.counter, (m as MapResult).value])).toEqual([
      [1, 1],
      [2, 2],
      [3, 7],
    ]);
    expect(log.counter).toBe(3);
  });

  it('keeps the newest results, its counter going on', async () => {
    const many = Array.from({ length: MAX_EVENT_RESULTS + 5 }, (_, i) => map(i));
    await projector.transaction((m) => appendEventResults(m, many));
    const log = await after(0);
    expect(log.counter).toBe(MAX_EVENT_RESULTS + 5);
    expect(log.messages).toHaveLength(MAX_EVENT_RESULTS);
    expect(log.messages[0]!.counter).toBe(6);
  });

  describe('resets when no request came for a while', () => {
    const s = `"${PROJECTOR_SCHEMA}"`;
    // Results 1 and 2 recorded 8 s ago, 3 recorded 2 s ago.
    const recordThree = async () => {
      await projector.transaction((m) => appendEventResults(m, [map(1), map(2), map(3)]));
      await projector.query(
        `update ${s}.event_results_v1 set recorded_at = now() - case when counter < 3 then interval '8 s' else interval '2 s' end`,
      );
    };
    const lastReadSecondsAgo = (seconds: number) =>
      projector.query(`update ${s}.event_results_reads_v1 set last_read_at = now() - $1 * interval '1 s'`, [
        seconds,
      ]);
    const counters = (log: { messages: { counter: number }[] }) => log.messages.map((m) => m.counter);

    it('hides what was recorded before the quiet spell reached its length; what came later stays, counters go on', async () => {
      await recordThree();
      await lastReadSecondsAgo(10); // so the log reset 5 s ago, after results 1 and 2
      const log = await query.after(0, 5_000);
      expect(log.counter).toBe(3);
      expect(counters(log)).toEqual([3]);
      // no new reset: the request just now counts
      expect(counters(await query.after(0, 5_000))).toEqual([3]);
      await projector.transaction((m) => appendEventResults(m, [map(4)]));
      const next = await query.after(3, 5_000);
      expect(next).toEqual({ counter: 4, messages: [expect.objectContaining({ counter: 4, value: 4 })] });
      // a counter past the end reads from the reset, not from before it
      expect(counters(await query.after(99, 5_000))).toEqual([3, 4]);
    });

    it('keeps everything while requests come often enough', async () => {
      await recordThree();
      await lastReadSecondsAgo(4);
      expect(counters(await query.after(0, 5_000))).toEqual([1, 2, 3]);
    });

    it('a log never read keeps only what came within the last spell', async () => {
      await recordThree();
      expect(counters(await query.after(0, 5_000))).toEqual([3]);
    });

    it('a reset changes what is answered, not what reductions read', async () => {
      await recordThree();
      await lastReadSecondsAgo(10);
      await query.after(0, 5_000);
      const [{ n }] = await projector.query(`select count(*)::int as n from ${s}.event_results_v1`);
      expect(n).toBe(3);
    });
  });
});
