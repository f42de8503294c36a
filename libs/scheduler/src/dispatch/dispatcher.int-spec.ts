import type { DataSource } from 'typeorm';
import { DEFAULT_CONTEXT_SETTINGS, jobStreamId, newEventId } from '@spindle/contracts';
import type { ContextSettings, HostHeartbeat, SpindleEvent } from '@spindle/contracts';
import { InProcessMessageBus, OutboxRelay, PostgresEventStore, commandFor } from '@spindle/backbone';
import { DataTopics } from '@spindle/contracts';
import { installationOf } from '@spindle/platform';
import { eventually } from '@spindle/testing';
import type { SpindleConfig } from '@spindle/platform';
import { contextCommands } from '../contexts/domain/context.decider';
import type { ContextCommand } from '../contexts/domain/context.decider';
import { jobCommands } from '../jobs/domain/job.decider';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { schedulerDatabase } from '../testing/scheduler-database';
import { Dispatcher } from './dispatcher';
import { DispatchHousekeeping } from './housekeeping';
import { HeartbeatsListener } from './heartbeats.listener';
import { hostDelivery } from './host-delivery';

const s = `"${SCHEDULER_SCHEMA}"`;
const meta = { correlationId: 'test', causationId: null };
const config = { scheduler: { hostSilenceLimitMs: 5_000 } } as SpindleConfig;

// The dispatcher on a real Postgres: what is queued when it looks is placed in one pass, many jobs
// per transaction, in queue order, within maxJobs and the hosts' slots.
describe('the dispatcher', () => {
  let db: Awaited<ReturnType<typeof schedulerDatabase>>;
  let dataSource: DataSource;
  let commands: SchedulerCommandsService;

  beforeAll(async () => {
    db = await schedulerDatabase();
    ({ dataSource, commands } = db);
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function contextWith(name: string, settings: Partial<ContextSettings>): Promise<void> {
    const command = { kind: 'create', name, settings: { ...DEFAULT_CONTEXT_SETTINGS, ...settings } };
    await commands.run(contextCommands, command as ContextCommand, meta);
  }

  async function submitted(
    context: string,
    count: number,
    metadata = meta,
    startTimeoutMs: number | null = null,
  ): Promise<string[]> {
    const ids = Array.from({ length: count }, () => newEventId());
    await commands.runMany(
      ids.map((id) =>
        commandFor(jobCommands, { kind: 'submit', id, job: jobOf(id, context, startTimeoutMs) }, metadata),
      ),
    );
    return ids;
  }

  function jobOf(id: string, context: string, startTimeoutMs: number | null = null) {
    return {
      id,
      function: 'f',
      context,
      args: { id },
      program: { artifact: 'f.js', sha256: 'a'.repeat(64), entrypoint: 'f', runtime: 'node' as const },
      externalId: null,
      startTimeoutMs,
      performTimeoutMs: null,
    };
  }

  // Runs the dispatcher until `count` jobs of these are assigned.
  async function dispatchUntilAssigned(ids: readonly string[], count: number): Promise<void> {
    const dispatcher = new Dispatcher(dataSource, commands, config);
    dispatcher.onApplicationBootstrap();
    try {
      for (;;) {
        const [row] = await dataSource.query(
          `select count(*)::int as n from ${s}.events where type = 'JobAssigned' and stream_id = any($1)`,
          [ids.map(jobStreamId)],
        );
        if (row.n >= count) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await dispatcher.beforeApplicationShutdown();
    }
  }

  async function assignments(ids: readonly string[]): Promise<{ job: string; worker: string; tx: string }[]> {
    const rows: { stream_id: string; worker: string; tx: string }[] = await dataSource.query(
      `select stream_id, data->>'workerId' as worker, xmin::text as tx from ${s}.events
       where type = 'JobAssigned' and stream_id = any($1) order by global_position`,
      [ids.map(jobStreamId)],
    );
    return rows.map((r) => ({ job: r.stream_id.slice('job-'.length), worker: r.worker, tx: r.tx }));
  }

  it('fills a shared pool in queue order in one transaction, no more of the context’s jobs than maxJobs', async () => {
    await db.liveHost('h-shared', 2);
    await contextWith('pool', { workerMode: 'shared', maxJobs: 3 });
    const ids = await submitted('pool', 10);
    await dispatchUntilAssigned(ids, 3);

    const placed = await assignments(ids);
    expect(placed.map((p) => p.job)).toEqual(ids.slice(0, 3));
    expect(new Set(placed.map((p) => p.tx)).size).toBe(1);
    // One worker has room for all three: the pool does not grow.
    expect(new Set(placed.map((p) => p.worker)).size).toBe(1);
    const workers: { id: string; state: string; max_jobs: number }[] = await dataSource.query(
      `select id, state, max_jobs from ${s}.dispatch_workers where context = 'pool' order by requested_at, id`,
    );
    expect(workers.map((w) => w.max_jobs)).toEqual([3]);
    const queued: { id: string }[] = await dataSource.query(
      `select id from ${s}.dispatch_jobs where context = 'pool' and state = 'queued' order by seq`,
    );
    expect(queued.map((q) => q.id)).toEqual(ids.slice(3));
  });

  it('places no more of an exclusive context’s jobs than its maxJobs, each on a worker of its own', async () => {
    await db.liveHost('h-solo', 10);
    await contextWith('solo', { workerMode: 'exclusive', maxJobs: 3 });
    const ids = await submitted('solo', 5);
    await dispatchUntilAssigned(ids, 3);

    const placed = await assignments(ids);
    expect(placed.map((p) => p.job)).toEqual(ids.slice(0, 3));
    expect(new Set(placed.map((p) => p.tx)).size).toBe(1);
    expect(new Set(placed.map((p) => p.worker)).size).toBe(3);
    const workers: { mode: string; max_jobs: number; host_id: string }[] = await dataSource.query(
      `select mode, max_jobs, host_id from ${s}.dispatch_workers where context = 'solo'`,
    );
    expect(workers).toHaveLength(3);
    expect(workers.every((w) => w.mode === 'exclusive' && w.max_jobs === 1 && w.host_id === 'h-solo')).toBe(
      true,
    );
  });

  it('places a job under its submit’s correlation id, caused by the submit', async () => {
    await db.liveHost('h-traced', 2);
    await contextWith('traced', { workerMode: 'shared', maxJobs: 2 });
    const [id] = await submitted('traced', 1, { correlationId: 'req-7f3a', causationId: null });
    await dispatchUntilAssigned([id!], 1);

    const events: { type: string; event_id: string; correlation_id: string; causation_id: string | null }[] =
      await dataSource.query(
        `select type, event_id, correlation_id, causation_id from ${s}.events
         where stream_id = $1 order by stream_position`,
        [jobStreamId(id!)],
      );
    expect(events.map((e) => e.type)).toEqual(['JobSubmitted', 'JobAssigned']);
    expect(events[1]).toMatchObject({ correlation_id: 'req-7f3a', causation_id: events[0]!.event_id });
  });

  // Workers and MapReduce task attempts share a host's slots (FREE_SLOTS_SQL): the dispatcher
  // leaves the slot an attempt holds. Every other host is taken out first.
  it('counts the MapReduce attempts placed on a host against its slots', async () => {
    await dataSource.query(`update ${s}.hosts set stopping = true`);
    await db.liveHost('h-mr', 2);
    await dataSource.query(
      `insert into ${s}.mapreduce_tasks (job_id, task_id, kind, run, attempt, open, host_id, incarnation)
       values ('j-mr', 'j-mr-m-0', 'mapper', 1, 1, true, 'h-mr', 'i1')`,
    );
    await contextWith('beside-mr', { workerMode: 'exclusive', maxJobs: 5 });
    const ids = await submitted('beside-mr', 3);
    // A pass places all it can in one transaction: with the attempt not counted it placed two.
    await dispatchUntilAssigned(ids, 1);
    const placed = await assignments(ids);
    expect(placed.map((p) => p.job)).toEqual(ids.slice(0, 1));
  });

  // Idle, the dispatcher waits for a commit, a host's change or the next due time: it used to look
  // every 250 ms (its pass is three statements), most of an idle scheduler's database traffic.
  it('runs no pass while nothing is due and nothing commits', async () => {
    const query = jest.spyOn(dataSource, 'query');
    const dispatcher = new Dispatcher(dataSource, commands, config);
    dispatcher.onApplicationBootstrap();
    try {
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      await dispatcher.beforeApplicationShutdown();
      const passes = query.mock.calls.filter(([sql]) => String(sql).includes('with recursive')).length;
      query.mockRestore();
      expect(passes).toBe(1);
    }
  });

  // A shared job's start was reported in a commit of its own, and each woke a pass that could place
  // nothing. Its timekeeping (a perform backstop) is still looked at, within the timekeeping's pause.
  it('runs no pass at once for a commit of starts alone; its timekeeping looks after the pause', async () => {
    const query = jest.spyOn(dataSource, 'query');
    const passes = () => query.mock.calls.filter(([sql]) => String(sql).includes('with recursive')).length;
    const dispatcher = new Dispatcher(dataSource, commands, config);
    dispatcher.onApplicationBootstrap();
    try {
      await eventually(async () => (passes() === 1 ? true : undefined), 20_000, 'the first pass');
      await new Promise((r) => setTimeout(r, 300)); // its timekeeping done
      const started = [{ type: 'JobStarted' }, { type: 'WorkerStarted' }] as SpindleEvent[];
      commands.committed(started);
      commands.committed(started);
      // Created after the timekeeping's pause (250 ms) began, due before it ends.
      await new Promise((r) => setTimeout(r, 100));
      expect(passes()).toBe(1);
      await eventually(async () => (passes() === 2 ? true : undefined), 20_000, 'the timekeeping pass');
      // A finish frees a slot: a pass at once.
      commands.committed([{ type: 'JobSucceeded' }] as SpindleEvent[]);
      await eventually(async () => (passes() === 3 ? true : undefined), 20_000, 'the pass of a finish');
    } finally {
      await dispatcher.beforeApplicationShutdown();
      query.mockRestore();
    }
  });

  // With no commit to wake it, the dispatcher sleeps until the deadline its timekeeping read.
  it('times a queued job out when its start deadline passes, not at a timer', async () => {
    await db.liveHost('h-late', 5);
    await contextWith('late', { workerMode: 'exclusive', maxJobs: 1 });
    const [first] = await submitted('late', 1);
    await dispatchUntilAssigned([first!], 1);
    const dispatcher = new Dispatcher(dataSource, commands, config);
    dispatcher.onApplicationBootstrap();
    try {
      const submittedAt = Date.now();
      const [waiting] = await submitted('late', 1, meta, 1_200);
      let timedOutAt = 0;
      while (!timedOutAt && Date.now() - submittedAt < 4_000) {
        const [row] = await dataSource.query(
          `select count(*)::int as n from ${s}.events where type = 'JobTimedOut' and stream_id = $1`,
          [jobStreamId(waiting!)],
        );
        if (row.n > 0) timedOutAt = Date.now();
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(timedOutAt - submittedAt).toBeGreaterThanOrEqual(1_200);
      expect(timedOutAt - submittedAt).toBeLessThan(2_000);
    } finally {
      await dispatcher.beforeApplicationShutdown();
    }
  });

  // A submit places on the pool it read holding the placement lock (submit-placement.ts), so only
  // the timekeeping that stops workers takes it: a submit does not wait behind the rest.
  it('keeps time without the placement lock, and holds it to take a silent host’s worker off', async () => {
    await db.liveHost('h-keep', 2);
    await contextWith('keep', { workerMode: 'exclusive', maxJobs: 1 });
    const [placed] = await submitted('keep', 1);
    await dispatchUntilAssigned([placed!], 1);
    const [late] = await submitted('keep', 1, meta, 1); // waits behind maxJobs, past its deadline
    await new Promise((r) => setTimeout(r, 20));
    const held: number[] = [];
    const placing = async <T>(fn: () => Promise<T>): Promise<T> => {
      held.push(Date.now());
      return fn();
    };
    const housekeeping = new DispatchHousekeeping(dataSource, commands, config);
    const eventsOf = async (id: string): Promise<string[]> =>
      (
        await dataSource.query<{ type: string }[]>(
          `select type from ${s}.events where stream_id = $1 order by global_position`,
          [jobStreamId(id)],
        )
      ).map((e) => e.type);

    await housekeeping.run(Date.now() - 60_000, placing);
    expect(await eventsOf(late!)).toEqual(['JobSubmitted', 'JobTimedOut']);
    expect(held).toHaveLength(0);

    await dataSource.query(
      `update ${s}.hosts set last_seen = now() - interval '1 hour', heard_until = now() - interval '1 hour'
       where id = 'h-keep'`,
    );
    await housekeeping.run(Date.now() - 60_000, placing);
    expect(held).toHaveLength(1);
    // Lost with its host (its function, unknown here, allows no retry).
    expect((await eventsOf(placed!)).slice(-1)).toEqual(['JobFailed']);
    const workers: { state: string }[] = await dataSource.query(
      `select state from ${s}.dispatch_workers where host_id = 'h-keep'`,
    );
    expect(workers.filter((w) => w.state !== 'stopped')).toEqual([]);
  });

  // Runs the dispatcher (on `wakes`' commits) until the job is assigned; how long that took.
  async function msUntilAssigned(id: string, wakes: SchedulerCommandsService, act: () => Promise<void>) {
    const dispatcher = new Dispatcher(dataSource, wakes, config);
    dispatcher.onApplicationBootstrap();
    try {
      await new Promise((r) => setTimeout(r, 300)); // its first pass is over: it sleeps
      const from = Date.now();
      await act();
      while (Date.now() - from < 3_000 && (await assignments([id])).length === 0)
        await new Promise((r) => setTimeout(r, 20));
      return Date.now() - from;
    } finally {
      await dispatcher.beforeApplicationShutdown();
    }
  }

  // Another scheduler (here: another application's commands service and event store on the same
  // database) submits: Postgres's outbox notification wakes this one's dispatcher at once.
  it('places a job another scheduler submitted at once, woken by Postgres', async () => {
    await db.liveHost('h-remote', 2);
    await contextWith('remote', { workerMode: 'exclusive', maxJobs: 1 });
    const other = new SchedulerCommandsService(
      dataSource,
      new PostgresEventStore(SCHEDULER_SCHEMA, hostDelivery),
      new OutboxRelay(dataSource, new InProcessMessageBus(), { schema: SCHEDULER_SCHEMA, pollMs: 20 }),
    );
    await commands.onApplicationBootstrap();
    try {
      const id = newEventId();
      const ms = await msUntilAssigned(id, commands, async () => {
        await other.run(jobCommands, { kind: 'submit', id, job: jobOf(id, 'remote') }, meta);
      });
      expect(ms).toBeLessThan(1_000);
    } finally {
      commands.beforeApplicationShutdown();
    }
  });

  // A host joining is recorded with a notification in the same statement, which wakes the
  // dispatcher: the job waiting for a slot is placed at once, not at the next safety tick.
  // Heartbeats recorded as the scheduler's listener records them, from an in-process bus.
  async function withHeartbeats(
    act: (beat: (hostId: string, startedAt: string, nextBeatMs?: number) => Promise<void>) => Promise<void>,
  ) {
    const bus = new InProcessMessageBus();
    const installation = { databaseUrl: 'postgres://h/test-installation' };
    const heartbeats = new HeartbeatsListener(dataSource, bus, { ...config, ...installation });
    await heartbeats.onModuleInit();
    try {
      await act(async (hostId, startedAt, nextBeatMs) => {
        const beat: HostHeartbeat = {
          installation: installationOf(installation),
          hostId,
          incarnation: 'i1',
          hostname: 'test',
          agentPid: 1,
          slots: 2,
          startedAt,
          sentAt: new Date().toISOString(),
          workers: [],
          stopping: false,
          ...(nextBeatMs === undefined ? {} : { nextBeatMs }),
        };
        await bus.publish([
          { topic: DataTopics.heartbeats, messages: [{ key: hostId, value: JSON.stringify(beat) }] },
        ]);
      });
    } finally {
      await heartbeats.beforeApplicationShutdown();
      await bus.close();
    }
  }

  it('places a waiting job as soon as a new host’s heartbeat is recorded', async () => {
    await dataSource.query(`update ${s}.hosts set stopping = true`);
    await contextWith('joining', { workerMode: 'exclusive', maxJobs: 1 });
    const [id] = await submitted('joining', 1);
    await withHeartbeats(async (beat) => {
      const ms = await msUntilAssigned(id!, commands, () => beat('h-joined', new Date().toISOString()));
      expect(ms).toBeLessThan(1_000);
    });
  });

  // Silent for longer than HOST_SILENCE_LIMIT_MS, a host is no live host; its next heartbeat
  // notifies, as a new host's does (a beat of a live host does not).
  it('places a waiting job as soon as a host silent past the limit is heard again', async () => {
    await dataSource.query(`update ${s}.hosts set stopping = true`);
    const startedAt = new Date(Date.now() - 7_200_000).toISOString();
    await dataSource.query(
      `insert into ${s}.hosts
         (id, incarnation, hostname, agent_pid, slots, stopping, started_at, last_seen, heard_until)
       values ('h-back', 'i1', 'test', 1, 2, false, $1, now() - interval '1 hour', now() - interval '1 hour')`,
      [startedAt],
    );
    await contextWith('returning', { workerMode: 'exclusive', maxJobs: 1 });
    const [id] = await submitted('returning', 1);
    await withHeartbeats(async (beat) => {
      const ms = await msUntilAssigned(id!, commands, () => beat('h-back', startedAt));
      expect(ms).toBeLessThan(1_000);
    });
  });

  // An agent with no work beats less often and says so: its host is allowed as much more silence
  // (HOST_SILENCE_LIMIT_MS is the silence of a host that beats every second), by every reader.
  it('allows a host that says it beats less often as much longer before it is no live host', async () => {
    const startedAt = new Date().toISOString();
    const allowance = async (hostId: string): Promise<number> => {
      const [row] = await dataSource.query<{ ms: number }[]>(
        `select (extract(epoch from heard_until - last_seen) * 1000)::float8 as ms from ${s}.hosts where id = $1`,
        [hostId],
      );
      return row?.ms ?? NaN;
    };
    await withHeartbeats(async (beat) => {
      await beat('h-busy', startedAt);
      await beat('h-idle', startedAt, 5_000);
      const allowed = (hostId: string, ms: number) =>
        eventually(
          async () => ((await allowance(hostId)) === ms ? ms : undefined),
          5_000,
          `${hostId}: ${ms} ms`,
        );
      await allowed('h-idle', 9_000);
      await allowed('h-busy', 5_000);
      // Busy again: it beats every second, and is allowed the limit again.
      await beat('h-idle', startedAt, 1_000);
      await allowed('h-idle', 5_000);
    });
    // Heard 7 s ago (past the limit of a host that beats every second) and allowed more, a host is
    // live to the dispatcher's placement and housekeeping alike; past its allowance, it is not.
    await dataSource.query(`update ${s}.hosts set stopping = true where id <> 'h-idle'`);
    await dataSource.query(
      `update ${s}.hosts set last_seen = now() - interval '7 s', heard_until = now() + interval '1 minute'
       where id = 'h-idle'`,
    );
    await contextWith('quiet', { workerMode: 'exclusive', maxJobs: 1 });
    const [placed] = await submitted('quiet', 1);
    await dispatchUntilAssigned([placed!], 1);
    const lastEvent = async (): Promise<string | undefined> =>
      (
        await dataSource.query<{ type: string }[]>(
          `select type from ${s}.events where stream_id = $1 order by global_position desc limit 1`,
          [jobStreamId(placed!)],
        )
      )[0]?.type;
    const housekeeping = new DispatchHousekeeping(dataSource, commands, config);
    await housekeeping.run(Date.now() - 60_000, (fn) => fn());
    expect(await lastEvent()).toBe('JobAssigned'); // not lost with its host
    await dataSource.query(`update ${s}.hosts set heard_until = now() - interval '1 s' where id = 'h-idle'`);
    await housekeeping.run(Date.now() - 60_000, (fn) => fn());
    expect(await lastEvent()).toBe('JobFailed'); // lost with its host (no retry allowed here)
  });

  // With a backlog, each submit's commit woke a pass that could place nothing. A job that joins a
  // queue with no room waits behind it; what makes room wakes the pass, which places in order.
  it('runs no pass at once for submits into a queue with no room, and places them once room is made', async () => {
    await db.liveHost('h-capped', 10);
    await contextWith('capped', { workerMode: 'exclusive', maxJobs: 1 });
    const query = jest.spyOn(dataSource, 'query');
    const passes = () => query.mock.calls.filter(([sql]) => String(sql).includes('with recursive')).length;
    const dispatcher = new Dispatcher(dataSource, commands, config);
    dispatcher.onApplicationBootstrap();
    try {
      const [first] = await submitted('capped', 1);
      await eventually(async () => ((await assignments([first!])).length === 1 ? true : undefined), 20_000);
      const waiting = await submitted('capped', 1); // its pass finds the queue full
      await eventually(async () => (passes() >= 2 ? true : undefined), 20_000, 'the pass of a queued job');
      await new Promise((r) => setTimeout(r, 300)); // that pass's timekeeping done
      const before = passes();
      // Three commits at once, all well within the timekeeping's pause (250 ms) that they start.
      const more = await Promise.all([1, 2, 3].map(() => submitted('capped', 1)));
      waiting.push(...more.flat());
      await new Promise((r) => setTimeout(r, 100));
      expect(passes()).toBe(before);
      // Room for one more: placed at once, the first of them in the queue.
      await commands.run(
        contextCommands,
        { kind: 'update', name: 'capped', settings: { maxJobs: 2 } } as ContextCommand,
        meta,
      );
      await eventually(async () => ((await assignments(waiting)).length === 1 ? true : undefined), 20_000);
      expect((await assignments(waiting)).map((a) => a.job)).toEqual([waiting[0]]);
    } finally {
      await dispatcher.beforeApplicationShutdown();
      query.mockRestore();
    }
  });

  // A queue that can place nothing reads none of its jobs (the snapshot's scan is 0 for it), but a
  // deleted context's jobs are still read, to be refused. Last: it takes every host out.
  it('refuses the queued jobs of a deleted context while no host has a free slot', async () => {
    await contextWith('gone', { workerMode: 'exclusive', maxJobs: 5 });
    await dataSource.query(`update ${s}.hosts set stopping = true`);
    const ids = await submitted('gone', 3);
    await commands.run(contextCommands, { kind: 'delete', name: 'gone' } as ContextCommand, meta);
    const dispatcher = new Dispatcher(dataSource, commands, config);
    dispatcher.onApplicationBootstrap();
    try {
      for (;;) {
        const failed: { error: string }[] = await dataSource.query(
          `select data->>'error' as error from ${s}.events where type = 'JobFailed' and stream_id = any($1)`,
          [ids.map(jobStreamId)],
        );
        if (failed.length === 3) {
          expect(failed.map((f) => f.error)).toEqual(Array(3).fill('context gone was deleted'));
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await dispatcher.beforeApplicationShutdown();
    }
    expect(await assignments(ids)).toEqual([]);
  });
});
