import { InProcessMessageBus, OutboxRelay, PostgresEventStore, backboneMigrations } from '@spindle/backbone';
import { hostStreamId } from '@spindle/contracts';
import { createTestSchema } from '@spindle/testing';
import { AgentReporter } from './agent-reporter';

// The agent's reports on a real Postgres: a burst of them shares commits, and keeps its order.
describe('the agent reporter', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let store: PostgresEventStore;
  let relay: OutboxRelay;

  beforeAll(async () => {
    db = await createTestSchema('worker_reports', { migrations: backboneMigrations });
    store = new PostgresEventStore(db.schema);
    relay = new OutboxRelay(db.dataSource, new InProcessMessageBus(), { schema: db.schema, pollMs: 20 });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records a burst of reports in order, in fewer commits than reports', async () => {
    const reporter = AgentReporter.forHost(db.dataSource, store, relay, 'h1', 'i1');
    const jobs = Array.from({ length: 50 }, (_, i) => `job-${i}`);
    await Promise.all(
      jobs.map((jobId) =>
        reporter.report({
          type: 'TaskStarted',
          version: 1,
          data: {
            jobId,
            workerId: 'w1',
            pid: 1,
            startedAt: new Date().toISOString(),
          },
        }),
      ),
    );
    await reporter.report({
      type: 'WorkerProcessExited',
      version: 1,
      data: { workerId: 'w1', hostId: 'h1', reason: 'done' },
    });

    const rows: { stream_position: number; type: string; job: string | null; tx: string }[] =
      await db.dataSource.query(
        `select stream_position, type, data->>'jobId' as job, xmin::text as tx from "${db.schema}".events
         where stream_id = $1 order by stream_position`,
        [hostStreamId('h1', 'i1')],
      );
    expect(rows.map((r) => r.stream_position)).toEqual(rows.map((_, i) => i + 1));
    expect(rows.map((r) => r.job ?? r.type)).toEqual([...jobs, 'WorkerProcessExited']);
    // Reported in one turn of the event loop: one commit for all of the burst.
    expect(new Set(rows.slice(0, jobs.length).map((r) => r.tx)).size).toBe(1);
  });

  it("holds an exclusive worker's start until the next report about that worker, and commits them together", async () => {
    const reporter = AgentReporter.forHost(db.dataSource, store, relay, 'h2', 'i1');
    let pid: number | null = null;
    reporter.holdUntilNext('w1', () => ({
      type: 'WorkerProcessStarted',
      version: 1,
      data: { workerId: 'w1', hostId: 'h2', pid },
    }));
    // Another worker's report does not take it along.
    await reporter.report({
      type: 'WorkerProcessExited',
      version: 1,
      data: { workerId: 'w2', hostId: 'h2', reason: 'done' },
    });
    pid = 42; // built when it goes: what is known by then is in it
    await new Promise((r) => setTimeout(r, 50));
    await reporter.report({
      type: 'TaskStarted',
      version: 1,
      data: { jobId: 'job-1', workerId: 'w1', pid: 43, startedAt: new Date().toISOString() },
    });

    const rows: { type: string; pid: string | null; tx: string }[] = await db.dataSource.query(
      `select type, data->>'pid' as pid, xmin::text as tx from "${db.schema}".events
       where stream_id = $1 order by stream_position`,
      [hostStreamId('h2', 'i1')],
    );
    expect(rows.map((r) => r.type)).toEqual(['WorkerProcessExited', 'WorkerProcessStarted', 'TaskStarted']);
    expect(rows[1]!.pid).toBe('42');
    expect(rows[1]!.tx).toBe(rows[2]!.tx);
    expect(rows[0]!.tx).not.toBe(rows[1]!.tx);
  });

  it("holds an exclusive job's end after a start still held, and commits both with its worker's exit, each with its cause", async () => {
    const reporter = AgentReporter.forHost(db.dataSource, store, relay, 'h4', 'i1');
    reporter.holdUntilNext('w1', () => ({
      type: 'WorkerProcessStarted',
      version: 1,
      data: { workerId: 'w1', hostId: 'h4', pid: null },
    }));
    reporter.holdUntilNext(
      'w1',
      () => ({
        type: 'TaskFinished',
        version: 1,
        data: {
          jobId: 'job-1',
          workerId: 'w1',
          outcome: 'failed',
          result: null,
          error: 'could not start',
          log: { lines: 0, bytes: 0 },
          finishedAt: new Date().toISOString(),
        },
      }),
      { id: 'assigned-1', correlationId: 'submit-1' },
    );
    await reporter.report({
      type: 'WorkerProcessExited',
      version: 1,
      data: { workerId: 'w1', hostId: 'h4', reason: 'its job ended' },
    });

    const rows: { type: string; correlation: string; causation: string | null; tx: string }[] =
      await db.dataSource.query(
        `select type, correlation_id as correlation, causation_id as causation, xmin::text as tx
         from "${db.schema}".events where stream_id = $1 order by stream_position`,
        [hostStreamId('h4', 'i1')],
      );
    expect(rows.map((r) => r.type)).toEqual(['WorkerProcessStarted', 'TaskFinished', 'WorkerProcessExited']);
    expect(rows[1]).toMatchObject({ correlation: 'submit-1', causation: 'assigned-1' });
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
  });

  it('tells a held report when it drains, with no report after it', async () => {
    const reporter = AgentReporter.forHost(db.dataSource, store, relay, 'h3', 'i1');
    reporter.holdUntilNext('w1', () => ({
      type: 'WorkerProcessStarted',
      version: 1,
      data: { workerId: 'w1', hostId: 'h3', pid: null },
    }));
    await reporter.drain();

    const rows: { type: string }[] = await db.dataSource.query(
      `select type from "${db.schema}".events where stream_id = $1`,
      [hostStreamId('h3', 'i1')],
    );
    expect(rows.map((r) => r.type)).toEqual(['WorkerProcessStarted']);
  });

  it("tells a held job's end alone when its worker's exit does not follow (a worker slow to stop)", async () => {
    const reporter = AgentReporter.forHost(db.dataSource, store, relay, 'h5', 'i1');
    reporter.holdUntilNext('w1', () => ({
      type: 'TaskFinished',
      version: 1,
      data: {
        jobId: 'job-late',
        workerId: 'w1',
        outcome: 'succeeded',
        result: 1,
        error: null,
        log: { lines: 0, bytes: 0 },
        finishedAt: new Date().toISOString(),
      },
    }));
    // No exit report, no drain: the end must still be recorded.
    const recorded = async (): Promise<string[]> => {
      const rows: { type: string }[] = await db.dataSource.query(
        `select type from "${db.schema}".events where stream_id = $1`,
        [hostStreamId('h5', 'i1')],
      );
      return rows.map((r) => r.type);
    };
    while ((await recorded()).length === 0) await new Promise((r) => setTimeout(r, 100));
    expect(await recorded()).toEqual(['TaskFinished']);
    expect(reporter.holding('w1')).toBe(false);
  });
});
