import { http } from '../support/http';
import { createContext, processAlive, submit, waitForState } from '../support/jobs';
import type { Job } from '../support/jobs';
import { waitUntil } from '../support/wait';
import { jobsSuite } from '../support/jobs-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(60_000);

// Workers as the jobs API shows them: precreated and idle ones, listing, paging their jobs, and
// stopping one gracefully or past its timeout.
describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  const suite = jobsSuite(env);

  it('starts a precreated shared worker before any job, and stops an idle one after its downtime', async () => {
    await createContext(suite.url, 'warm', { workerMode: 'shared', precreated: true, maxJobs: 2 });
    await waitUntil(async () => {
      const workers = await http(suite.url, 'GET', '/api/v1/workers?context=warm&state=running');
      return workers.body.items.length === 1;
    });
    await createContext(suite.url, 'brief', { workerMode: 'shared', maxJobs: 2, downtime: '300ms' });
    const done = await waitForState(
      suite.url,
      (await submit(suite.url, 'pid', { args: { ms: 0 }, context: 'brief' })).id,
    );
    await waitUntil(
      async () => (await http(suite.url, 'GET', `/api/v1/workers/${done.workerId}`)).body.state === 'stopped',
    );
    const stopped = await http(suite.url, 'GET', `/api/v1/workers/${done.workerId}`);
    expect(stopped.body.stopReason).toBe('idle');
  });

  it('lists workers with their host, jobs and heartbeat, and stops one gracefully', async () => {
    const job = await waitForState(
      suite.url,
      (await submit(suite.url, 'pid', { args: { ms: 0 }, context: 'shared2' })).id,
    );
    const worker = await http(suite.url, 'GET', `/api/v1/workers/${job.workerId}`);
    expect(worker.status).toBe(200);
    expect(worker.body).toMatchObject({
      id: job.workerId,
      context: 'shared2',
      mode: 'shared',
      state: 'running',
      // The worker's runner process, which ran the job (the `pid` function returns its own pid),
      // not the agent's (this test process).
      pid: job.result,
    });
    expect(job.result).not.toBe(process.pid);
    expect(worker.body.lastHeartbeat).toEqual(expect.any(String));
    const list = await http(suite.url, 'GET', '/api/v1/workers?context=shared2&state=running');
    expect(list.body.items.map((w: { id: string }) => w.id)).toContain(job.workerId);
    expect(list.body.items.find((w: { id: string }) => w.id === job.workerId)?.pid).toBe(job.result);
    const jobsOfWorker = await http(suite.url, 'GET', `/api/v1/workers/${job.workerId}/jobs`);
    expect(jobsOfWorker.body.items.map((j: Job) => j.id)).toContain(job.id);
    const stopped = await http(suite.url, 'DELETE', `/api/v1/workers/${job.workerId}`);
    expect(stopped.status).toBe(202);
    await waitUntil(
      async () => (await http(suite.url, 'GET', `/api/v1/workers/${job.workerId}`)).body.state === 'stopped',
    );
  });

  it('pages the jobs of a worker with a cursor, newest first', async () => {
    await createContext(suite.url, 'pager', { workerMode: 'shared', maxJobs: 2 });
    const submitted: Job[] = [];
    for (let i = 0; i < 7; i++)
      submitted.push(
        await waitForState(
          suite.url,
          (await submit(suite.url, 'sum', { args: { a: i, b: 0 }, context: 'pager' })).id,
        ),
      );
    const workerId = submitted[0]!.workerId!;
    expect(submitted.every((j) => j.workerId === workerId)).toBe(true); // one shared worker, reused
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/api/v1/workers/${workerId}/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await http(suite.url, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((j: Job) => j.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(submitted.map((j) => j.id).reverse());
  });

  it('stops a worker gracefully: it takes no new job, lets its running one finish, then stops', async () => {
    await createContext(suite.url, 'graceful', { workerMode: 'shared', maxJobs: 2 });
    const job = await submit(suite.url, 'sleep', { args: { ms: 4_000 }, context: 'graceful' });
    const running = await waitForState(suite.url, job.id, ['running']);
    const stopping = await http(suite.url, 'DELETE', `/api/v1/workers/${running.workerId}`);
    expect(stopping.status).toBe(202);
    expect(stopping.body).toMatchObject({ id: running.workerId, state: 'stopping' });
    const next = await submit(suite.url, 'pid', { args: { ms: 0 }, context: 'graceful' });
    const done = await waitForState(suite.url, job.id);
    expect(done).toMatchObject({ state: 'succeeded', result: 'woke', workerId: running.workerId });
    await waitUntil(
      async () =>
        (await http(suite.url, 'GET', `/api/v1/workers/${running.workerId}`)).body.state === 'stopped',
    );
    const nextDone = await waitForState(suite.url, next.id);
    expect(nextDone.state).toBe('succeeded');
    expect(nextDone.workerId).not.toBe(running.workerId);
  });

  it('cancels what still runs on a stopping worker once its timeout is over', async () => {
    await createContext(suite.url, 'impatient', { workerMode: 'shared', maxJobs: 2 });
    const job = await submit(suite.url, 'sleep', { args: { ms: 60_000 }, context: 'impatient' });
    const running = await waitForState(suite.url, job.id, ['running']);
    for (const bad of ['soon', '-1s', '25d'])
      expect(
        (await http(suite.url, 'DELETE', `/api/v1/workers/${running.workerId}?timeout=${bad}`)).body,
      ).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'timeout' })] });
    const stopping = await http(suite.url, 'DELETE', `/api/v1/workers/${running.workerId}?timeout=500ms`);
    expect(stopping.status).toBe(202);
    const done = await waitForState(suite.url, job.id);
    expect(done.state).toBe('cancelled');
    expect(done.error).toContain('its worker stopped');
    await waitUntil(
      async () =>
        (await http(suite.url, 'GET', `/api/v1/workers/${running.workerId}`)).body.state === 'stopped',
    );
    await waitUntil(() => !processAlive(running.pid!));
  });
});
