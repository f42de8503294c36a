import { http } from '../support/http';
import { createContext, processAlive, submit, waitForState } from '../support/jobs';
import { waitUntil } from '../support/wait';
import { jobsSuite } from '../support/jobs-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(60_000);

// Cancelling jobs and their timeouts: a cancel kills the process, a finished job stays finished,
// a start or perform timeout ends a job as timed_out.
describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  const suite = jobsSuite(env);

  it('kills the process of a running job it cancels', async () => {
    const job = await submit(suite.url, 'sleep', { args: { ms: 60_000 } });
    const running = await waitForState(suite.url, job.id, ['running']);
    expect(processAlive(running.pid!)).toBe(true);
    const cancelled = await http(suite.url, 'POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(['cancelling', 'cancelled']).toContain(cancelled.body.state);
    const done = await waitForState(suite.url, job.id);
    expect(done.state).toBe('cancelled');
    await waitUntil(() => !processAlive(running.pid!));
    // Cancelling again, or a finished job, changes nothing.
    expect((await http(suite.url, 'POST', `/api/v1/jobs/${job.id}/cancel`)).body.state).toBe('cancelled');
  });

  it('ends a job that outlives its performTimeout as timed_out', async () => {
    const job = await submit(suite.url, 'sleep', { args: { ms: 60_000 }, performTimeout: '1s' });
    const done = await waitForState(suite.url, job.id);
    expect(done.state).toBe('timed_out');
    expect(Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(900);
    if (done.pid) await waitUntil(() => !processAlive(done.pid!));
  });

  it('times out a queued job past its startTimeout without running it', async () => {
    await createContext(suite.url, 'single', { workerMode: 'exclusive', maxJobs: 1 });
    const blocker = await submit(suite.url, 'sleep', { args: { ms: 3_000 }, context: 'single' });
    await waitForState(suite.url, blocker.id, ['running']);
    const late = await submit(suite.url, 'sum', {
      args: { a: 1, b: 1 },
      context: 'single',
      startTimeout: '300ms',
    });
    const done = await waitForState(suite.url, late.id);
    expect(done).toMatchObject({ state: 'timed_out', startedAt: null, pid: null });
    await http(suite.url, 'POST', `/api/v1/jobs/${blocker.id}/cancel`);
  });

  it('leaves a succeeded job succeeded when it is cancelled', async () => {
    const done = await waitForState(suite.url, (await submit(suite.url, 'sum', { args: { a: 3, b: 4 } })).id);
    expect(done).toMatchObject({ state: 'succeeded', result: 7 });
    const cancelled = await http(suite.url, 'POST', `/api/v1/jobs/${done.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ state: 'succeeded', result: 7, error: null });
    expect((await http(suite.url, 'GET', `/api/v1/jobs/${done.id}`)).body).toEqual(cancelled.body);
  });

  it('takes timeouts up to 2^31 - 1 ms, and Inf for none, and reads the job back', async () => {
    const job = await submit(suite.url, 'sum', {
      args: { a: 1, b: 1 },
      startTimeout: '24d',
      performTimeout: '2147483647ms',
    });
    const done = await waitForState(suite.url, job.id);
    expect(done).toMatchObject({
      state: 'succeeded',
      startTimeout: '2073600000ms',
      performTimeout: '2147483647ms',
    });
    const unbounded = await submit(suite.url, 'sum', { args: { a: 1, b: 1 }, performTimeout: 'Inf' });
    expect(unbounded).toMatchObject({ performTimeout: null, startTimeout: null });
  });
});
