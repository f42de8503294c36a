import type { DataSource } from 'typeorm';
import { hostStreamId, jobStreamId, newEventId, parseEvent, workerStreamId } from '@spindle/contracts';
import type { AgentReport, SpindleEvent } from '@spindle/contracts';
import type { PostgresEventStore } from '@spindle/backbone';
import { jobCommands } from '../jobs/domain/job.decider';
import type { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';
import { schedulerDatabase } from '../testing/scheduler-database';
import { agentReportsConsumer } from './agent-reports.consumer';

const s = `"${SCHEDULER_SCHEMA}"`;
const meta = { correlationId: 'test', causationId: null };

// The scheduler's side of what worker agents report, on a real Postgres: reports in, the job's
// and worker's events out.
describe('the agent reports consumer', () => {
  let db: Awaited<ReturnType<typeof schedulerDatabase>>;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let commands: SchedulerCommandsService;
  let position = 0;

  beforeAll(async () => {
    db = await schedulerDatabase();
    ({ dataSource, store, commands } = db);
  });

  afterAll(async () => {
    await db?.drop();
  });

  function report<T extends AgentReport['type']>(
    type: T,
    data: Extract<AgentReport, { type: T }>['data'],
  ): SpindleEvent {
    return parseEvent({
      id: newEventId(),
      type,
      version: 1,
      streamId: hostStreamId('h1', 'i1'),
      streamPosition: ++position,
      occurredAt: new Date().toISOString(),
      correlationId: 'agent',
      causationId: null,
      data,
    });
  }

  async function placedJob(): Promise<{ jobId: string; workerId: string }> {
    const jobId = newEventId();
    const workerId = newEventId();
    const task = {
      function: 'f',
      context: 'default',
      args: {},
      program: { artifact: 'f.js', sha256: 'a'.repeat(64), entrypoint: 'f', runtime: 'node' as const },
      performTimeoutMs: 1_000,
    };
    const job = { id: jobId, ...task, externalId: null, startTimeoutMs: null };
    await commands.run(jobCommands, { kind: 'submit', id: jobId, job }, meta);
    const worker = {
      id: workerId,
      context: 'default',
      mode: 'shared' as const,
      hostId: 'h1',
      hostIncarnation: 'i1',
      maxJobs: 2,
      runOptions: '',
    };
    await commands.run(workerCommands, { kind: 'request', id: workerId, worker }, meta);
    await commands.run(jobCommands, { kind: 'assign', id: jobId, workerId, hostId: 'h1' }, meta);
    return { jobId, workerId };
  }

  async function eventsOf(streamId: string): Promise<SpindleEvent[]> {
    return dataSource.transaction((manager) => store.readStream(manager, streamId));
  }

  it('dates a job’s start and end by the times its host stamped on them', async () => {
    const { jobId, workerId } = await placedJob();
    const consumer = agentReportsConsumer(commands);
    const startedAt = '2026-01-02T03:04:05.000Z';
    const finishedAt = '2026-01-02T03:04:06.000Z';
    await consumer.handle(
      [
        report('TaskStarted', { jobId, workerId, pid: 4242, startedAt }),
        report('TaskFinished', {
          jobId,
          workerId,
          outcome: 'timed_out',
          result: null,
          error: 'not finished within its performTimeout (1000 ms)',
          log: { lines: 0, bytes: 0 },
          finishedAt,
        }),
      ],
      dataSource.manager,
    );
    const events = await eventsOf(jobStreamId(jobId));
    expect(events.map((e) => [e.type, new Date(e.occurredAt).toISOString()]).slice(-2)).toEqual([
      ['JobStarted', startedAt],
      ['JobTimedOut', finishedAt],
    ]);
  });

  // The dispatcher tells by them whether a pass can place anything (a start alone cannot).
  it('tells whoever listens to commits the events its reports appended', async () => {
    const { jobId, workerId } = await placedJob();
    const consumer = agentReportsConsumer(commands);
    const heard: (readonly string[] | undefined)[] = [];
    commands.onCommitted((appended) => heard.push(appended?.map((e) => e.type)));
    const started = report('TaskStarted', {
      jobId,
      workerId,
      pid: 4242,
      startedAt: new Date().toISOString(),
    });
    await dataSource.transaction((manager) => consumer.handle([started], manager));
    consumer.committed?.([started]);
    expect(heard.at(-1)).toEqual(['JobStarted']);
  });

  it('keeps the dispatcher’s perform-timeout backstop on the host’s start time', async () => {
    const { jobId, workerId } = await placedJob();
    const startedAt = '2026-01-02T03:04:05.000Z';
    await agentReportsConsumer(commands).handle(
      [report('TaskStarted', { jobId, workerId, pid: 1, startedAt })],
      dataSource.manager,
    );
    const [row] = await dataSource.query(`select started_at from ${s}.dispatch_jobs where id = $1`, [jobId]);
    expect(new Date(row.started_at).toISOString()).toBe(startedAt);
  });

  it('takes the time of handling for reports older than host stamps', async () => {
    const { jobId, workerId } = await placedJob();
    const before = Date.now();
    await agentReportsConsumer(commands).handle(
      [report('TaskStarted', { jobId, workerId, pid: 1 })],
      dataSource.manager,
    );
    const started = (await eventsOf(jobStreamId(jobId))).at(-1)!;
    expect(started.type).toBe('JobStarted');
    expect(Date.parse(started.occurredAt)).toBeGreaterThanOrEqual(before - 1);
  });

  it('loses what a worker still ran when its process ended, and nothing it finished before', async () => {
    const finished = await placedJob();
    const running = await placedJob();
    const workerId = finished.workerId;
    // Both jobs on one worker: the second one's worker takes the first one's place.
    await commands.run(
      jobCommands,
      { kind: 'lose', id: running.jobId, workerId: running.workerId, reason: 'moved', retries: 1 },
      meta,
    );
    await commands.run(jobCommands, { kind: 'assign', id: running.jobId, workerId, hostId: 'h1' }, meta);
    await agentReportsConsumer(commands).handle(
      [
        report('TaskFinished', {
          jobId: finished.jobId,
          workerId,
          outcome: 'succeeded',
          result: 1,
          error: null,
          log: { lines: 0, bytes: 0 },
        }),
        report('WorkerProcessExited', { workerId, hostId: 'h1', reason: 'killed' }),
      ],
      dataSource.manager,
    );
    expect((await eventsOf(jobStreamId(finished.jobId))).map((e) => e.type).slice(-1)).toEqual([
      'JobSucceeded',
    ]);
    const lost = (await eventsOf(jobStreamId(running.jobId))).at(-1)!;
    expect([lost.type, lost.data]).toEqual([
      'JobFailed',
      { id: running.jobId, error: 'worker process ended: killed', log: null },
    ]);
    expect((await eventsOf(workerStreamId(workerId))).at(-1)?.type).toBe('WorkerStopped');
    const left = await dataSource.query(`select id from ${s}.dispatch_jobs where id = any($1)`, [
      [finished.jobId, running.jobId],
    ]);
    expect(left).toEqual([]);
  });

  it('turns the start of a worker’s runner into the worker’s pid, once per process', async () => {
    const { workerId } = await placedJob();
    const consumer = agentReportsConsumer(commands);
    await consumer.handle(
      [
        report('WorkerProcessStarted', { workerId, hostId: 'h1', pid: null }),
        report('WorkerRunnerStarted', { workerId, hostId: 'h1', pid: 1001 }),
        report('WorkerRunnerStarted', { workerId, hostId: 'h1', pid: 1001 }),
        report('WorkerRunnerStarted', { workerId, hostId: 'h1', pid: 1002 }),
      ],
      dataSource.manager,
    );
    const events = await eventsOf(workerStreamId(workerId));
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['WorkerRequested', expect.objectContaining({ id: workerId })],
      ['WorkerStarted', { id: workerId, pid: null }],
      ['WorkerPidChanged', { id: workerId, pid: 1001 }],
      ['WorkerPidChanged', { id: workerId, pid: 1002 }],
    ]);
  });
});
