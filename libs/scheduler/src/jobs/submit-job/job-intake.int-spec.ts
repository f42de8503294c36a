import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { ADVISORY_LOCK_CLASS } from '@spindle/backbone';
import { lockWaiters, waitForLockWaiters } from '@spindle/testing';
import { DEFAULT_CONTEXT_SETTINGS, newEventId } from '@spindle/contracts';
import type { CommandResult, ContextSettings, SubmitJobCommand } from '@spindle/contracts';
import { contextCommands } from '../../contexts/domain/context.decider';
import type { ContextCommand } from '../../contexts/domain/context.decider';
import { functionCommands } from '../../functions/domain/function.decider';
import type { FunctionCommand } from '../../functions/domain/function.decider';
import type { SchedulerCommandsService } from '../../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { schedulerDatabase } from '../../testing/scheduler-database';
import { workerCommands } from '../../workers/domain/worker.decider';
import { jobCommands } from '../domain/job.decider';
import { JobIntake } from './job-intake';

const s = `"${SCHEDULER_SCHEMA}"`;
const meta = { correlationId: 'test', causationId: null };
const SHA = 'a'.repeat(64);

type Accepted = Extract<CommandResult, { ok: true }>;

// A submit whose context's shared pool has room is assigned in its own transaction, where the
// dispatcher would have placed it at once; everywhere else it waits queued for the dispatcher.
describe('the job intake, placing on submit', () => {
  let db: Awaited<ReturnType<typeof schedulerDatabase>>;
  let dataSource: DataSource;
  let commands: SchedulerCommandsService;
  let intake: JobIntake;

  beforeAll(async () => {
    db = await schedulerDatabase();
    ({ dataSource, commands } = db);
    intake = new JobIntake(commands);
    await db.liveHost('h1', 4);
    const register = {
      kind: 'register',
      name: 'f',
      definition: { artifact: 'f.js', entrypoint: 'f', runtime: 'node', tags: [] },
      correlationId: 'test',
      issuedAt: new Date().toISOString(),
    };
    await commands.run(functionCommands, register as FunctionCommand, meta);
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function contextWith(name: string, settings: Partial<ContextSettings>): Promise<void> {
    const command = { kind: 'create', name, settings: { ...DEFAULT_CONTEXT_SETTINGS, ...settings } };
    await commands.run(contextCommands, command as ContextCommand, meta);
  }

  // A shared worker of the context's pool, as the dispatcher requests one, taking `maxJobs` at once.
  async function poolWorker(context: string, maxJobs: number): Promise<string> {
    const id = newEventId();
    const worker = { id, context, mode: 'shared' as const, hostId: 'h1', hostIncarnation: 'i1', maxJobs };
    await commands.run(workerCommands, { kind: 'request', id, worker: { ...worker, runOptions: '' } }, meta);
    return id;
  }

  function submitOf(context: string): SubmitJobCommand {
    return {
      id: newEventId(),
      function: 'f',
      context,
      args: {},
      artifact: 'f.js',
      artifactSha256: SHA,
      correlationId: 'req-1',
      issuedAt: new Date().toISOString(),
    };
  }

  async function submit(context: string): Promise<Accepted> {
    const result = await intake.submit(submitOf(context), undefined);
    if (!result.ok) throw new Error(`refused: ${result.error.message}`);
    return result;
  }

  // One after the other, each acknowledged before the next is sent.
  async function submitAll(context: string, count: number): Promise<Accepted[]> {
    const results: Accepted[] = [];
    for (let i = 0; i < count; i++) results.push(await submit(context));
    return results;
  }

  // Each job's events by type, and the transaction that appended them.
  async function eventsOf(results: readonly Accepted[]) {
    const rows: { stream_id: string; type: string; worker: string | null; tx: string }[] =
      await dataSource.query(
        `select stream_id, type, data->>'workerId' as worker, xmin::text as tx from ${s}.events
       where stream_id = any($1) order by global_position`,
        [results.map((r) => r.streamId)],
      );
    return results.map((r) => rows.filter((row) => row.stream_id === r.streamId));
  }

  it('assigns each submit the pool has room for as it records it, the rest stay queued, within maxJobs', async () => {
    await contextWith('roomy', { workerMode: 'shared', maxJobs: 3 });
    const first = await poolWorker('roomy', 2);
    const second = await poolWorker('roomy', 2);
    const results = await submitAll('roomy', 5);
    const events = await eventsOf(results);
    // In the order acknowledged: the oldest worker filled first, then the next, up to maxJobs (3).
    expect(events.map((e) => e.map((row) => row.type))).toEqual([
      ['JobSubmitted', 'JobAssigned'],
      ['JobSubmitted', 'JobAssigned'],
      ['JobSubmitted', 'JobAssigned'],
      ['JobSubmitted'],
      ['JobSubmitted'],
    ]);
    expect(events.slice(0, 3).map((e) => e[1]!.worker)).toEqual([first, first, second]);
    // In the submit's own transaction, and the answer is the job assigned.
    for (const [submitted, assigned] of events.slice(0, 3)) expect(assigned!.tx).toBe(submitted!.tx);
    expect(results[0]!.events!.map((e) => e.type)).toEqual(['JobSubmitted', 'JobAssigned']);
    // The dispatch tables agree: three placed on their workers, two waiting.
    const states: { state: string; n: number }[] = await dataSource.query(
      `select state, count(*)::int as n from ${s}.dispatch_jobs where context = 'roomy' group by state order by state`,
    );
    expect(states).toEqual([
      { state: 'queued', n: 2 },
      { state: 'starting', n: 3 },
    ]);
  });

  // Submits sent together are decided in batches, one after the other, each taking the placement
  // lock. What holds: no worker takes more than its room, the context no more than its maxJobs.
  it('keeps every worker within its room and the context within maxJobs under a burst', async () => {
    await contextWith('burst', { workerMode: 'shared', maxJobs: 5 });
    const workers = [await poolWorker('burst', 3), await poolWorker('burst', 3)];
    const results = await Promise.all(Array.from({ length: 40 }, () => submit('burst')));
    const assigned = (await eventsOf(results)).flatMap((e) => e.filter((row) => row.type === 'JobAssigned'));
    expect(assigned.length).toBeGreaterThan(0);
    expect(assigned.length).toBeLessThanOrEqual(5);
    for (const worker of workers)
      expect(assigned.filter((row) => row.worker === worker).length).toBeLessThanOrEqual(3);
  });

  it('places nothing ahead of a job already waiting in its context’s queue', async () => {
    await contextWith('fifo', { workerMode: 'shared', maxJobs: 4 });
    // Waiting: submitted before the context had a worker.
    const [waiting] = await submitAll('fifo', 1);
    await poolWorker('fifo', 4);
    const later = await submitAll('fifo', 2);
    const events = await eventsOf([waiting!, ...later]);
    expect(events.map((e) => e.map((row) => row.type))).toEqual([
      ['JobSubmitted'],
      ['JobSubmitted'],
      ['JobSubmitted'],
    ]);
  });

  it('leaves an exclusive context’s jobs to the dispatcher: a submit starts no worker', async () => {
    await contextWith('solo', { workerMode: 'exclusive', maxJobs: 4 });
    const events = await eventsOf(await submitAll('solo', 2));
    expect(events.map((e) => e.map((row) => row.type))).toEqual([['JobSubmitted'], ['JobSubmitted']]);
    const workers: { n: number }[] = await dataSource.query(
      `select count(*)::int as n from ${s}.dispatch_workers where context = 'solo'`,
    );
    expect(workers[0]!.n).toBe(0);
  });

  // A pass under way, as the dispatcher holds it: on a session of its own.
  async function passUnderWay(): Promise<Client> {
    const pass = new Client({ connectionString: (dataSource.options as { url: string }).url });
    await pass.connect();
    await pass.query('select pg_advisory_lock($1, 0)', [ADVISORY_LOCK_CLASS.placement]);
    return pass;
  }

  it('waits for a dispatcher pass under way, then places on what the pass left', async () => {
    await contextWith('busy', { workerMode: 'shared', maxJobs: 4 });
    const worker = await poolWorker('busy', 4);
    const pass = await passUnderWay();
    try {
      // The pass places three jobs on the worker, which has room for one more.
      for (const id of Array.from({ length: 3 }, () => newEventId())) {
        const job = {
          id,
          function: 'f',
          context: 'busy',
          args: {},
          program: { artifact: 'f.js', sha256: SHA, entrypoint: 'f', runtime: 'node' as const },
          externalId: null,
          startTimeoutMs: null,
          performTimeoutMs: null,
        };
        await commands.run(jobCommands, { kind: 'submit', id, job }, meta);
        await commands.run(jobCommands, { kind: 'assign', id, workerId: worker, hostId: 'h1' }, meta);
      }
      let answered = false;
      const waiting = submit('busy').then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 60));
      expect(answered).toBe(false);
      await pass.query('select pg_advisory_unlock($1, 0)', [ADVISORY_LOCK_CLASS.placement]);
      // Read after the pass: the last of the worker's room and of the context's maxJobs.
      const [first] = await eventsOf([await waiting]);
      expect(first!.map((row) => [row.type, row.worker])).toEqual([
        ['JobSubmitted', null],
        ['JobAssigned', worker],
      ]);
      const [next] = await eventsOf(await submitAll('busy', 1));
      expect(next!.map((row) => row.type)).toEqual(['JobSubmitted']);
    } finally {
      await pass.end();
    }
  });

  // One batch at a time: while a batch waits for the placement lock, the submits sent meanwhile
  // gather for the next one (with two in flight the first of them took the second slot alone and
  // waited on the lock beside it, and the rest came a batch later still).
  it('decides one batch at a time: submits sent while a batch waits for the lock share the next', async () => {
    await contextWith('turns', { workerMode: 'shared', maxJobs: 10 });
    const worker = await poolWorker('turns', 10);
    const pass = await passUnderWay();
    try {
      const first = submit('turns');
      await waitForLockWaiters(dataSource, 'advisory');
      const later = Promise.all([submit('turns'), submit('turns'), submit('turns')]);
      await new Promise((r) => setTimeout(r, 60));
      expect(await lockWaiters(dataSource, 'advisory')).toBe(1);
      await pass.query('select pg_advisory_unlock($1, 0)', [ADVISORY_LOCK_CLASS.placement]);
      const [alone, ...together] = await eventsOf([await first, ...(await later)]);
      const transactions = new Set(together.flatMap((job) => job.map((row) => row.tx)));
      expect(transactions.size).toBe(1);
      expect(alone!.some((row) => transactions.has(row.tx))).toBe(false);
      // (The first may have given up its bounded wait on a slow machine: it is left queued then.)
      for (const job of together)
        expect(job.map((row) => [row.type, row.worker])).toEqual([
          ['JobSubmitted', null],
          ['JobAssigned', worker],
        ]);
    } finally {
      await pass.end();
    }
  });

  it('bounds its wait for the lock alone: the transaction keeps its own lock_timeout', async () => {
    const inTransaction = (wait: number) =>
      dataSource.transaction(async (manager) => {
        await manager.query(`set local lock_timeout = '7s'`);
        const [row] = await manager.query(
          `select ${s}.placement_lock($1, $2) as held, current_setting('lock_timeout') as timeout`,
          [ADVISORY_LOCK_CLASS.placement, wait],
        );
        const [after] = await manager.query(`select current_setting('lock_timeout') as timeout`);
        return { held: row.held as boolean, timeout: after.timeout as string };
      });
    expect(await inTransaction(50)).toEqual({ held: true, timeout: '7s' });
    const pass = await passUnderWay();
    try {
      expect(await inTransaction(50)).toEqual({ held: false, timeout: '7s' });
    } finally {
      await pass.end();
    }
  });

  it('waits for a pass a bounded time only, then leaves its job queued for the dispatcher', async () => {
    await contextWith('stuck', { workerMode: 'shared', maxJobs: 4 });
    await poolWorker('stuck', 4);
    const pass = await passUnderWay();
    try {
      const startedAt = Date.now();
      const [events] = await eventsOf([await submit('stuck')]);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
      expect(events!.map((row) => row.type)).toEqual(['JobSubmitted']);
    } finally {
      await pass.end();
    }
  });
});
