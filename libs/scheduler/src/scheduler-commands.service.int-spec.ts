import type { DataSource } from 'typeorm';
import { jobStreamId, newEventId, workerStreamId } from '@spindle/contracts';
import type { EventEnvelope } from '@spindle/contracts';
import { commandFor, runStatements } from '@spindle/backbone';
import type { PostgresEventStore } from '@spindle/backbone';
import { dispatchStatements } from './dispatch/dispatch-state';
import { jobCommands } from './jobs/domain/job.decider';
import type { SchedulerCommandsService } from './scheduler-commands.service';
import { SCHEDULER_SCHEMA } from './scheduler.tokens';
import { schedulerDatabase } from './testing/scheduler-database';
import { workerCommands } from './workers/domain/worker.decider';

const s = `"${SCHEDULER_SCHEMA}"`;
const meta = { correlationId: 'test', causationId: null };
const task = {
  function: 'f',
  context: 'default',
  args: {},
  program: { artifact: 'f.js', sha256: 'a'.repeat(64), entrypoint: 'f', runtime: 'node' as const },
  performTimeoutMs: null,
};

// Many commands in one transaction, on a real Postgres: each gets the answer it would have had
// alone, and a stream moved by someone else meanwhile is decided again, never applied twice.
describe('running commands in a batch', () => {
  let db: Awaited<ReturnType<typeof schedulerDatabase>>;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let commands: SchedulerCommandsService;
  const worker = newEventId();

  beforeAll(async () => {
    db = await schedulerDatabase();
    ({ dataSource, store, commands } = db);
    await commands.run(
      workerCommands,
      {
        kind: 'request',
        id: worker,
        worker: {
          id: worker,
          context: 'default',
          mode: 'shared',
          hostId: 'h1',
          hostIncarnation: 'i1',
          maxJobs: 100,
          runOptions: '',
        },
      },
      meta,
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  const submit = (id: string) =>
    commandFor(
      jobCommands,
      { kind: 'submit', id, job: { id, ...task, externalId: null, startTimeoutMs: null } },
      meta,
    );
  const assign = (id: string) =>
    commandFor(jobCommands, { kind: 'assign', id, workerId: worker, hostId: 'h1' }, meta);
  const cancel = (id: string) => commandFor(jobCommands, { kind: 'cancel', id }, meta);

  async function typesOf(id: string): Promise<string[]> {
    const events = await dataSource.transaction((m) => store.readStream(m, jobStreamId(id)));
    return events.map((e) => e.type);
  }

  async function dispatchRows(ids: string[]): Promise<{ id: string; state: string }[]> {
    return dataSource.query(`select id, state from ${s}.dispatch_jobs where id = any($1) order by seq`, [
      ids,
    ]);
  }

  it('decides each command on what the ones before it on its stream decided, in one transaction', async () => {
    const [a, b] = [newEventId(), newEventId()];
    const results = await commands.runMany([submit(a), submit(b), assign(a), assign(a), cancel(b)]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true]);
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await typesOf(a)).toEqual(['JobSubmitted', 'JobAssigned']);
    expect(await typesOf(b)).toEqual(['JobSubmitted', 'JobCancelled']);
    // The dispatch state follows: a placed, b gone.
    expect(await dispatchRows([a, b])).toEqual([{ id: a, state: 'starting' }]);
    const tx: { xmin: string }[] = await dataSource.query(
      `select distinct xmin::text from ${s}.events where stream_id = any($1)`,
      [[jobStreamId(a), jobStreamId(b)]],
    );
    expect(tx).toHaveLength(1);
  });

  it('answers a command that changes nothing with its stream’s position', async () => {
    const a = newEventId();
    await commands.runMany([submit(a), cancel(a)]);
    const [again] = await commands.runMany([
      cancel(a),
      commandFor(workerCommands, { kind: 'started', id: worker, pid: 7 }, meta),
    ]);
    expect(again).toEqual({ ok: true, streamId: jobStreamId(a), streamPosition: 2 });
  });

  it('decides a batch again when another writer moves one of its streams meanwhile', async () => {
    const [raced, other] = [newEventId(), newEventId()];
    await commands.runMany([submit(raced), submit(other), assign(raced), assign(other)]);
    // Another writer finishes `raced` and holds its stream's lock while the batch decides.
    const rival = dataSource.createQueryRunner();
    await rival.connect();
    await rival.startTransaction();
    const finished = await store.append(
      rival.manager,
      jobStreamId(raced),
      2,
      [{ type: 'JobSucceeded', version: 1, data: { id: raced, result: 1, log: { lines: 0, bytes: 0 } } }],
      { topic: jobCommands.topic, metadata: meta, occurredAt: new Date() },
    );
    await runStatements(rival.manager, dispatchStatements(finished));
    const batch = commands.runMany([cancel(other), cancel(raced)]);
    await waitForLockWait(dataSource);
    await rival.commitTransaction();
    await rival.release();
    const results = await batch;
    expect(results.every((r) => r.ok)).toBe(true);
    // The cancel of `raced` was decided on its finish: nothing to cancel, nothing appended twice.
    expect(await typesOf(raced)).toEqual(['JobSubmitted', 'JobAssigned', 'JobSucceeded']);
    expect(await typesOf(other)).toEqual(['JobSubmitted', 'JobAssigned', 'JobCancelRequested']);
    expect(await dispatchRows([raced, other])).toEqual([{ id: other, state: 'cancelling' }]);
  });

  it('records a worker’s idle time at the last of its jobs leaving it', async () => {
    const [a, b] = [newEventId(), newEventId()];
    await commands.runMany([submit(a), submit(b), assign(a), assign(b)]);
    const finish = (id: string, at: string) =>
      commandFor(
        jobCommands,
        {
          kind: 'finish',
          id,
          workerId: worker,
          outcome: 'succeeded',
          result: null,
          error: null,
          log: { lines: 0, bytes: 0 },
        },
        meta,
        new Date(at),
      );
    // Jobs of earlier tests still sit on the worker: only once they are gone does it fall idle.
    const left: { id: string }[] = await dataSource.query(
      `select id from ${s}.dispatch_jobs where worker_id = $1`,
      [worker],
    );
    await commands.runMany([
      ...left
        .filter((j) => j.id !== a && j.id !== b)
        .map((j) => commandFor(jobCommands, { kind: 'expire-perform', id: j.id }, meta)),
    ]);
    await commands.runMany([finish(b, '2026-01-02T03:04:06.000Z'), finish(a, '2026-01-02T03:04:05.000Z')]);
    const [row] = await dataSource.query(`select idle_since from ${s}.dispatch_workers where id = $1`, [
      worker,
    ]);
    expect(new Date(row.idle_since).toISOString()).toBe('2026-01-02T03:04:06.000Z');
    const events: EventEnvelope[] = await dataSource.transaction((m) =>
      store.readStream(m, workerStreamId(worker)),
    );
    expect(events[0]?.type).toBe('WorkerRequested');
  });
});

// The batch's conditional write waits for the rival's row lock: seen in pg_stat_activity, no timing.
async function waitForLockWait(dataSource: DataSource): Promise<void> {
  for (;;) {
    const [row] = await dataSource.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (row.n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
