import { runDecider } from '@spindle/testing';
import { mapReduceJobDecider } from './mapreduce-job.decider';
import type { MapReduceJobCommand } from './mapreduce-job.decider';

const id = 'j-0193a5b2-7c1e-7f00-8000-1234567890ab';
const submit: MapReduceJobCommand = {
  kind: 'submit',
  job: {
    id,
    protocol: 'streaming',
    inputPath: 'http://127.0.0.1:19000/in/a.txt',
    outputPath: 'http://127.0.0.1:19000/out/wc',
    nReducers: 1,
    splitSize: 64 * 1024 * 1024,
    taskTimeoutMs: 600_000,
    mapper: { artifact: 'map.sh', sha256: 'a'.repeat(64) },
    reducer: { artifact: 'reduce.sh', sha256: 'b'.repeat(64) },
    inputSecretId: null,
    outputSecretId: null,
  },
};
const plan: MapReduceJobCommand = {
  kind: 'plan',
  id,
  maps: [{ key: 'a.txt', start: 0, end: 10 }],
  reducers: 1,
};
const m0 = `${id}-m-0`;
const r0 = `${id}-r-0`;
const started = (taskId: string, attempt = 1, run?: number): MapReduceJobCommand => ({
  kind: 'task-started',
  id,
  ...(run === undefined ? {} : { run }),
  taskId,
  taskKind: taskId === m0 ? 'mapper' : 'reducer',
  attempt,
});
const failed = (taskId: string, attempt: number, retried: boolean): MapReduceJobCommand => ({
  kind: 'task-failed',
  id,
  taskId,
  attempt,
  error: 'exit code 1',
  retried,
});

// Given the commands before the last, when the last: its events (or refusal) and the state after.
const run = (...commands: MapReduceJobCommand[]) => runDecider(mapReduceJobDecider, commands);

describe('MapReduce job decider', () => {
  it('plans every task scheduled, then walks a task through its attempts', () => {
    expect(run(submit, plan).state).toEqual({
      state: 'running',
      tasks: { [m0]: { state: 'scheduled', attempts: 0 }, [r0]: { state: 'scheduled', attempts: 0 } },
    });
    const retried = run(submit, plan, started(m0), failed(m0, 1, true));
    expect(retried.last).toEqual([
      {
        type: 'MapReduceTaskFailed',
        version: 1,
        data: { id, taskId: m0, attempt: 1, error: 'exit code 1', retried: true },
      },
    ]);
    expect(retried.state).toMatchObject({ tasks: { [m0]: { state: 'scheduled', attempts: 1 } } });
    const done = run(submit, plan, started(m0), failed(m0, 1, true), started(m0, 2), {
      kind: 'task-succeeded',
      id,
      taskId: m0,
      attempt: 2,
    });
    expect(done.state).toMatchObject({ tasks: { [m0]: { state: 'completed', attempts: 2 } } });
  });

  it('ignores late and duplicate reports of a task', () => {
    const base = [submit, plan, started(m0), failed(m0, 1, true), started(m0, 2)];
    expect(run(...base, failed(m0, 1, true)).last).toEqual([]); // an older attempt
    expect(run(...base, started(m0, 2)).last).toEqual([]);
    expect(
      run(
        submit,
        plan,
        { kind: 'finish', id, outcome: { state: 'succeeded' } },
        { kind: 'finish', id, outcome: { state: 'failed', error: 'x' } },
      ).last,
    ).toEqual([]);
  });

  it('ends failed with the error, and refuses a stop afterwards', () => {
    const ended = run(submit, plan, started(r0), failed(r0, 4, false), {
      kind: 'finish',
      id,
      outcome: { state: 'failed', error: 'task failed 4 times' },
    });
    expect(ended.last).toEqual([
      { type: 'MapReduceJobFailed', version: 1, data: { id, error: 'task failed 4 times' } },
    ]);
    expect(ended.state).toMatchObject({ state: 'failed', tasks: { [r0]: { state: 'failed', attempts: 4 } } });
    const stop = mapReduceJobDecider.decide({ kind: 'stop', id, reason: 'by request' }, ended.state);
    expect(stop).toEqual({
      code: 'conflict',
      message: `job ${id} already finished its workload`,
      field: 'id',
    });
  });

  it('stops: requested once, then every unfinished task is stopped with the job', () => {
    const stop: MapReduceJobCommand = { kind: 'stop', id, reason: 'by request' };
    expect(run(submit, plan, started(m0), stop).state).toMatchObject({ state: 'stopping' });
    expect(run(submit, plan, started(m0), stop, stop).last).toEqual([]);
    const stopped = run(submit, plan, started(m0), stop, {
      kind: 'finish',
      id,
      outcome: { state: 'stopped', reason: 'by request' },
    });
    expect(stopped.state).toEqual({
      state: 'stopped',
      tasks: { [m0]: { state: 'stopped', attempts: 1 }, [r0]: { state: 'stopped', attempts: 0 } },
    });
  });

  it('refuses a second submit and commands for an unknown job or task', () => {
    expect(run(submit, submit).last).toEqual({
      code: 'conflict',
      message: `MapReduce job ${id} exists`,
      field: 'id',
    });
    expect(run({ kind: 'stop', id, reason: 'x' }).last).toMatchObject({ code: 'not_found', field: 'id' });
    expect(run(submit, plan, started(`${id}-m-7`)).last).toMatchObject({
      code: 'not_found',
      field: 'taskId',
    });
  });

  it('places the job again on a lost host: the next run starts every task over and ignores the old run', () => {
    const assign = (hostId: string): MapReduceJobCommand => ({
      kind: 'assign',
      id,
      hostId,
      incarnation: 'i-1',
      reason: 'submitted',
      job: submit.kind === 'submit' ? submit.job : (undefined as never),
    });
    const first = run(submit, assign('h-1'));
    expect(first.last).toEqual([
      expect.objectContaining({
        type: 'MapReduceJobAssigned',
        data: expect.objectContaining({ run: 1, hostId: 'h-1' }),
      }),
    ]);
    const planned = { ...plan, run: 1 };
    const succeeded: MapReduceJobCommand = { kind: 'task-succeeded', id, run: 1, taskId: m0, attempt: 1 };
    const moved = run(submit, assign('h-1'), planned, started(m0, 1, 1), succeeded, assign('h-2'));
    expect(moved.state).toMatchObject({
      state: 'running',
      run: 2,
      tasks: { [m0]: { state: 'scheduled', attempts: 0 }, [r0]: { state: 'scheduled', attempts: 0 } },
    });
    const base = [submit, assign('h-1'), planned, assign('h-2')];
    expect(run(...base, started(m0, 1, 1)).last).toEqual([]); // the lost host's report
    expect(run(...base, { kind: 'finish', id, run: 1, outcome: { state: 'succeeded' } }).last).toEqual([]);
    expect(run(...base, started(m0, 1, 2)).last).toEqual([
      expect.objectContaining({ type: 'MapReduceTaskStarted' }),
    ]);
  });

  describe('task attempts spread over hosts', () => {
    const assign: MapReduceJobCommand = {
      kind: 'assign',
      id,
      hostId: 'h-1',
      incarnation: 'i-1',
      reason: 'submitted',
      job: submit.kind === 'submit' ? submit.job : (undefined as never),
    };
    const ready = (attempt: number, runNumber = 1): MapReduceJobCommand => ({
      kind: 'task-ready',
      id,
      run: runNumber,
      taskId: m0,
      taskKind: 'mapper',
      attempt,
    });
    const place = (attempt: number, hostId = 'h-2'): MapReduceJobCommand => ({
      kind: 'assign-task',
      id,
      run: 1,
      taskId: m0,
      taskKind: 'mapper',
      attempt,
      hostId,
      incarnation: 'i-2',
    });
    const placed = [submit, assign, { ...plan, run: 1 }];

    it('places a ready attempt on a host once, and the host reports it as any other', () => {
      expect(run(...placed, ready(1)).last).toEqual([
        {
          type: 'MapReduceTaskReady',
          version: 1,
          data: { id, run: 1, taskId: m0, kind: 'mapper', attempt: 1 },
        },
      ]);
      const onHost = run(...placed, ready(1), place(1));
      expect(onHost.last).toEqual([
        {
          type: 'MapReduceTaskAssigned',
          version: 1,
          data: { id, run: 1, taskId: m0, kind: 'mapper', attempt: 1, hostId: 'h-2', incarnation: 'i-2' },
        },
      ]);
      expect(onHost.state).toMatchObject({ tasks: { [m0]: { state: 'scheduled', attempts: 0, placed: 1 } } });
      expect(run(...placed, ready(1), ready(1)).last).toEqual([]); // asked twice
      expect(run(...placed, ready(1), place(1), place(1, 'h-3')).last).toEqual([]); // placed twice
      expect(run(...placed, place(1)).last).toEqual([]); // never asked for
      const done = run(...placed, ready(1), place(1), started(m0, 1, 1), {
        kind: 'task-succeeded',
        id,
        run: 1,
        taskId: m0,
        attempt: 1,
      });
      expect(done.state).toMatchObject({ tasks: { [m0]: { state: 'completed', attempts: 1 } } });
    });

    it('fails an attempt whose host was lost before it started, and takes the retry', () => {
      const lost: MapReduceJobCommand = {
        kind: 'task-failed',
        id,
        run: 1,
        taskId: m0,
        attempt: 1,
        error: 'its worker host h-2 stopped responding',
        retried: true,
      };
      const failedOnce = run(...placed, ready(1), place(1), lost);
      expect(failedOnce.last).toEqual([
        expect.objectContaining({
          type: 'MapReduceTaskFailed',
          data: expect.objectContaining({ attempt: 1 }),
        }),
      ]);
      expect(failedOnce.state).toMatchObject({ tasks: { [m0]: { state: 'scheduled', attempts: 1 } } });
      expect(run(...placed, ready(1), place(1), lost, lost).last).toEqual([]);
      expect(run(...placed, ready(1), place(1), lost, ready(2)).last).toEqual([
        expect.objectContaining({
          type: 'MapReduceTaskReady',
          data: expect.objectContaining({ attempt: 2 }),
        }),
      ]);
      // Not placed and never started: nothing to fail.
      expect(run(...placed, ready(1), lost).last).toEqual([]);
    });

    it('asks for and places nothing for an older run, a stopping job or a task running', () => {
      expect(run(...placed, assign, ready(1, 1)).last).toEqual([]);
      expect(run(...placed, { kind: 'stop', id, reason: 'by request' }, ready(1)).last).toEqual([]);
      expect(run(...placed, ready(1), { kind: 'stop', id, reason: 'by request' }, place(1)).last).toEqual([]);
      expect(run(...placed, ready(1), place(1), started(m0, 1, 1), ready(2)).last).toEqual([]);
    });
  });
});
