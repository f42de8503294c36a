import { http } from '../support/http';
import { createContext, submit, waitForState } from '../support/jobs';
import type { Job } from '../support/jobs';
import { waitUntil } from '../support/wait';
import { jobsSuite } from '../support/jobs-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(60_000);

// Listing jobs: keyset pages with none repeated or missing, and the filters.
describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  const suite = jobsSuite(env);

  it('pages 60 jobs through limit=25 with none repeated and none missing, newest first', async () => {
    const submitted: string[] = [];
    for (let i = 0; i < 60; i++)
      submitted.push(
        (await submit(suite.url, 'sum', { args: { a: i, b: 0 }, context: 'wide', externalId: 'paging' })).id,
      );
    // A submit answers once the job is recorded; lists read the read model, which follows.
    await waitUntil(
      async () =>
        (await http(suite.url, 'GET', '/api/v1/jobs?externalId=paging&limit=500')).body.items.length === 60,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/jobs?externalId=paging&limit=25${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await http(suite.url, 'GET', query);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((j: Job) => j.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // Newest first: the reverse of the order they were submitted in, one after the other.
    expect(seen).toEqual([...submitted].reverse());
  });

  it('filters the list by state, function, context and worker, and returns only matching jobs', async () => {
    await createContext(suite.url, 'filtered', { workerMode: 'shared', maxJobs: 4 });
    const failed = await waitForState(
      suite.url,
      (await submit(suite.url, 'fail', { context: 'filtered' })).id,
    );
    const summed = await waitForState(
      suite.url,
      (await submit(suite.url, 'sum', { args: { a: 1, b: 2 }, context: 'filtered' })).id,
    );
    expect([failed.state, summed.state]).toEqual(['failed', 'succeeded']);
    const list = async (query: string): Promise<(Job & { function: string })[]> => {
      const page = await http(suite.url, 'GET', `/api/v1/jobs?limit=500&${query}`);
      expect({ query, status: page.status }).toEqual({ query, status: 200 });
      return page.body.items;
    };
    const byState = await list('state=failed');
    expect(byState.map((j) => j.id)).toContain(failed.id);
    expect(byState.every((j) => j.state === 'failed')).toBe(true);
    const two = await list('state=failed&state=succeeded&context=filtered');
    expect(two.map((j) => j.id).sort()).toEqual([failed.id, summed.id].sort());
    const byFunction = await list('function=fail');
    expect(byFunction.map((j) => j.id)).toContain(failed.id);
    expect(byFunction.every((j) => j.function === 'fail')).toBe(true);
    expect((await list('context=filtered')).map((j) => j.id)).toEqual([summed.id, failed.id]);
    expect((await list('context=filtered&function=sum')).map((j) => j.id)).toEqual([summed.id]);
    expect(await list('context=filtered&state=running')).toEqual([]);
    const byWorker = await list(`worker=${summed.workerId}`);
    expect(byWorker.map((j) => j.id)).toContain(summed.id);
    expect(byWorker.every((j) => j.workerId === summed.workerId)).toBe(true);
  });
});
