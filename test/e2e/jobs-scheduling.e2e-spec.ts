import { Client } from 'pg';
import { workerStreamId } from '@spindle/contracts';
import { createContext, submit, waitForState } from '../support/jobs';
import { jobsSuite } from '../support/jobs-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(60_000);

// Where and when jobs run: shared and exclusive workers, maxJobs, first in first out.
describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  const suite = jobsSuite(env);

  it('runs two jobs of a shared context in one worker process, of an exclusive one in two', async () => {
    const shared = await Promise.all(
      [1, 2].map(() => submit(suite.url, 'pid', { args: { ms: 500 }, context: 'shared2' })),
    );
    const sharedDone = await Promise.all(shared.map((j) => waitForState(suite.url, j.id)));
    expect(sharedDone.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    expect(sharedDone[0]!.result).toBe(sharedDone[1]!.result);
    expect(sharedDone[0]!.workerId).toBe(sharedDone[1]!.workerId);

    const exclusive = await Promise.all(
      [1, 2].map(() => submit(suite.url, 'pid', { args: { ms: 500 }, context: 'exclusive2' })),
    );
    const exclusiveDone = await Promise.all(exclusive.map((j) => waitForState(suite.url, j.id)));
    expect(exclusiveDone.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    expect(exclusiveDone[0]!.result).not.toBe(exclusiveDone[1]!.result);
    expect(exclusiveDone[0]!.workerId).not.toBe(exclusiveDone[1]!.workerId);
  });

  it("commits an exclusive node worker's start with its job's: its runner's pid in WorkerStarted, no runner report of its own", async () => {
    const job = await submit(suite.url, 'pid', { args: { ms: 10 }, context: 'exclusive2' });
    const done = await waitForState(suite.url, job.id);
    expect(done.state).toBe('succeeded');
    const db = new Client({ connectionString: suite.databaseUrl });
    await db.connect();
    try {
      const decided: { type: string; pid: string | null }[] = (
        await db.query(
          `select type, data->>'pid' as pid from scheduler.events where stream_id = $1 order by stream_position`,
          [workerStreamId(done.workerId!)],
        )
      ).rows;
      expect(decided.map((e) => e.type)).not.toContain('WorkerPidChanged');
      expect(decided.find((e) => e.type === 'WorkerStarted')?.pid).toMatch(/^[0-9]+$/);
      // The agent's reports about the worker: its start went with its job's, in one commit.
      const reported: { type: string; tx: string }[] = (
        await db.query(
          `select type, xmin::text as tx from worker.events where data->>'workerId' = $1 order by stream_position`,
          [done.workerId],
        )
      ).rows;
      expect(reported.map((r) => r.type)).toEqual([
        'WorkerProcessStarted',
        'TaskStarted',
        'TaskFinished',
        'WorkerProcessExited',
      ]);
      expect(reported[0]!.tx).toBe(reported[1]!.tx);
    } finally {
      await db.end();
    }
  });

  it('runs jobs one after the other when maxJobs is 1', async () => {
    await createContext(suite.url, 'serial', { workerMode: 'exclusive', maxJobs: 1 });
    const jobs = await Promise.all(
      [1, 2].map(() => submit(suite.url, 'sleep', { args: { ms: 400 }, context: 'serial' })),
    );
    const [a, b] = (await Promise.all(jobs.map((j) => waitForState(suite.url, j.id)))).sort(
      (x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!),
    );
    expect(a!.state).toBe('succeeded');
    expect(b!.state).toBe('succeeded');
    expect(Date.parse(b!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a!.finishedAt!));
  });

  it('starts the jobs of a context in the order they were submitted (FIFO)', async () => {
    await createContext(suite.url, 'fifo', { workerMode: 'exclusive', maxJobs: 1 });
    const submitted: string[] = [];
    for (let i = 0; i < 5; i++)
      submitted.push((await submit(suite.url, 'sleep', { args: { ms: 200 }, context: 'fifo' })).id);
    const done = await Promise.all(submitted.map((id) => waitForState(suite.url, id)));
    expect(done.map((j) => j.state)).toEqual(Array(5).fill('succeeded'));
    const byStart = [...done].sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
    expect(byStart.map((j) => j.id)).toEqual(submitted);
    // One at a time: each started once the one before it had finished.
    for (let i = 1; i < byStart.length; i++)
      expect(Date.parse(byStart[i]!.startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(byStart[i - 1]!.finishedAt!),
      );
  });
});
