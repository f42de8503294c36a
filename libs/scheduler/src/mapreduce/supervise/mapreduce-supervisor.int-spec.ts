import type { DataSource } from 'typeorm';
import { mapReduceJobStreamId } from '@spindle/contracts';
import type { MapReduceJobSubmittedV1 } from '@spindle/contracts';
import type { SpindleConfig } from '@spindle/platform';
import type { SchedulerCommandsService } from '../../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { schedulerDatabase } from '../../testing/scheduler-database';
import { mapReduceJobCommands } from '../domain/mapreduce-job.decider';
import type { MapReduceJobCommand } from '../domain/mapreduce-job.decider';
import { MapReduceSupervisor } from './mapreduce-supervisor';

const s = `"${SCHEDULER_SCHEMA}"`;
const meta = { correlationId: 'test', causationId: null };
const config = { scheduler: { hostSilenceLimitMs: 5_000 } } as SpindleConfig;
const id = 'j-0193a5b2-7c1e-7f00-8000-1234567890ab';
const job: MapReduceJobSubmittedV1 = {
  id,
  protocol: 'streaming',
  inputPath: 'http://127.0.0.1:21000/in/a.txt',
  outputPath: 'http://127.0.0.1:21000/out/wc',
  nReducers: 0,
  splitSize: 10,
  taskTimeoutMs: 600_000,
  mapper: { artifact: 'map.sh', sha256: 'a'.repeat(64) },
  reducer: null,
  inputSecretId: null,
  outputSecretId: null,
};
const task = (i: number) => `${id}-m-${i}`;

// The MapReduce supervisor on a real Postgres: a job's coordinator on one host, the attempts it
// asks for on the hosts with free slots, a retry off the host its attempt failed on, and the
// attempts of a lost host failed so that its coordinator asks again.
describe('the MapReduce supervisor', () => {
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

  const run = async (...batch: MapReduceJobCommand[]): Promise<void> => {
    for (const command of batch) {
      const result = await commands.run(mapReduceJobCommands, command, meta);
      expect(result).toMatchObject({ ok: true });
    }
  };
  const ready = (i: number, attempt: number): MapReduceJobCommand => ({
    kind: 'task-ready',
    id,
    run: 1,
    taskId: task(i),
    taskKind: 'mapper',
    attempt,
  });
  const startedAndEnded = (i: number, attempt: number, ok: boolean): MapReduceJobCommand[] => [
    { kind: 'task-started', id, run: 1, taskId: task(i), taskKind: 'mapper', attempt },
    ok
      ? { kind: 'task-succeeded', id, run: 1, taskId: task(i), attempt }
      : { kind: 'task-failed', id, run: 1, taskId: task(i), attempt, error: 'exit code 1', retried: true },
  ];

  // The events of a type on the job's stream.
  async function events(type: string): Promise<Record<string, unknown>[]> {
    const rows: { data: Record<string, unknown> }[] = await dataSource.query(
      `select data from ${s}.events where stream_id = $1 and type = $2 order by stream_position`,
      [mapReduceJobStreamId(id), type],
    );
    return rows.map((r) => r.data);
  }

  // Runs the supervisor until the job's stream holds `count` events of the type.
  async function superviseUntil(type: string, count: number): Promise<Record<string, unknown>[]> {
    const supervisor = new MapReduceSupervisor(dataSource, commands, config);
    supervisor.onApplicationBootstrap();
    try {
      for (;;) {
        const found = await events(type);
        if (found.length >= count) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await supervisor.beforeApplicationShutdown();
    }
  }

  it('places the coordinator, then each ready attempt on the host with the most free slots', async () => {
    await db.liveHost('h-a', 2);
    await db.liveHost('h-b', 1);
    await run({ kind: 'submit', job });
    const [assigned] = await superviseUntil('MapReduceJobAssigned', 1);
    expect(assigned).toMatchObject({ run: 1, hostId: 'h-a' });
    const maps = [0, 1, 2, 3].map((i) => ({ key: 'a.txt', start: i * 10, end: (i + 1) * 10 }));
    await run(
      { kind: 'plan', id, run: 1, maps, reducers: 0 },
      ready(0, 1),
      ready(1, 1),
      ready(2, 1),
      ready(3, 1),
    );

    // Three slots in all: the fourth attempt waits for one.
    const placed = await superviseUntil('MapReduceTaskAssigned', 3);
    const hostOf = (p: Record<string, unknown>[]) =>
      Object.fromEntries(p.map((e) => [e['taskId'], e['hostId']]));
    expect(placed).toHaveLength(3);
    expect(Object.values(hostOf(placed)).sort()).toEqual(['h-a', 'h-a', 'h-b']);
    const onB = placed.find((p) => p['hostId'] === 'h-b')!['taskId'] as string;
    const bIndex = Number(onB.slice(onB.lastIndexOf('-') + 1));
    const aIndex = [0, 1, 2].find((i) => i !== bIndex && hostOf(placed)[task(i)] === 'h-a')!;

    // One attempt on h-a fails and one on h-b succeeds: the retry goes to h-b, off h-a, and the
    // waiting attempt to h-a.
    await run(...startedAndEnded(aIndex, 1, false), ...startedAndEnded(bIndex, 1, true), ready(aIndex, 2));
    const after = await superviseUntil('MapReduceTaskAssigned', 5);
    expect(after.slice(3)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ taskId: task(aIndex), attempt: 2, hostId: 'h-b' }),
        expect.objectContaining({ taskId: task(3), attempt: 1, hostId: 'h-a' }),
      ]),
    );
  });

  it('fails the attempts of a host that stopped, so its coordinator asks for them again', async () => {
    const onB = (await events('MapReduceTaskAssigned')).filter((p) => p['hostId'] === 'h-b').at(-1)!;
    await dataSource.query(`update ${s}.hosts set stopping = true where id = 'h-b'`);
    const failed = await superviseUntil('MapReduceTaskFailed', 2);
    expect(failed.at(-1)).toEqual({
      id,
      taskId: onB['taskId'],
      attempt: onB['attempt'],
      error: 'its worker host h-b stopped responding',
      retried: true,
    });
    // Nothing is left placed on the stopped host.
    const [row] = await dataSource.query(
      `select count(*)::int as n from ${s}.mapreduce_tasks where open and host_id = 'h-b'`,
    );
    expect(row.n).toBe(0);
  });
});
