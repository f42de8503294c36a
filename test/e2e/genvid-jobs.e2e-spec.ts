import { http } from '../support/http';
import { expectRebuildRestores } from '../support/rebuild';
import { defineServe, serviceJob, waitForSummary } from '../support/service-jobs';
import { waitUntil } from '../support/wait';
import type { ServiceJob } from '../support/service-jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(90_000);

// What GET /v1/jobs shows of a service job.
type GenvidJob = Omit<ServiceJob, 'taskGroups'> & {
  taskGroups: Omit<ServiceJob['taskGroups'][number], 'allocations'>[];
};

// A client that behaves like a Genvid Cluster API client for its jobs: Genvid's paths on Genvid's
// own port, JSON `{error}` refusals, and long polls on the `waitIndex` header.
describe.each(SPINDLE_MODES)('Genvid jobs over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'genvid-jobs', env });
  const genvid = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(suite.spindle.dialectUrls['genvid']!, method, path, body, headers);
  const jobs = async (headers: Record<string, string> = {}, query = '') => {
    const res = await genvid('GET', `/v1/jobs${query}`, undefined, headers);
    expect(res.status).toBe(200);
    return { jobs: res.body as GenvidJob[], index: Number(res.headers.get('waitIndex')) };
  };
  const define = (name: string, countInit: number, countMax: number) =>
    http(suite.url, 'POST', '/api/v1/service-jobs', {
      name,
      taskGroups: [{ name: 'web', function: 'serve', countInit, countMax }],
    });

  beforeAll(async () => {
    await defineServe(suite.url);
  });

  it("lists jobs at once without waitIndex, in the seed's shape, with the index to wait on", async () => {
    expect((await define('web', 1, 3)).status).toBe(201);
    const { jobs: listed, index } = await jobs();
    expect(index).toBeGreaterThanOrEqual(1);
    expect(listed.find((j) => j.name === 'web')).toEqual({
      name: 'web',
      status: 'dead',
      taskGroups: [
        {
          name: 'web',
          count: 0,
          countInit: 1,
          countMax: 3,
          summary: { queued: 0, starting: 0, running: 0, complete: 0, failed: 0, lost: 0 },
        },
      ],
    });
  });

  it('starts a job at countInit, and updatecounts moves the count by a delta clamped to [0, countMax]', async () => {
    const started = await genvid('POST', '/v1/jobs/start/web');
    expect(started.status).toBe(200);
    expect(started.body.taskGroups[0].count).toBe(1);
    await waitForSummary(suite.url, 'web', { running: 1 });
    expect((await jobs()).jobs.find((j) => j.name === 'web')!.status).toBe('running');

    const update = (count: number) =>
      genvid('POST', '/v1/jobs/updatecounts', { jobID: 'web', taskGroup: 'web', count });
    expect((await update(1)).body.taskGroups[0].count).toBe(2);
    expect((await update(5)).body.taskGroups[0].count).toBe(3); // clamped to countMax
    await waitForSummary(suite.url, 'web', { running: 3 });
    expect((await update(-1)).body.taskGroups[0].count).toBe(2);
    await waitForSummary(suite.url, 'web', { running: 2, complete: 1 });
    expect((await update(-9)).body.taskGroups[0].count).toBe(0); // clamped to 0
    expect((await update(2)).body.taskGroups[0].count).toBe(2);
    expect((await update(0)).body.taskGroups[0].count).toBe(0); // 0 stops the group
    await waitForSummary(suite.url, 'web', { running: 0, starting: 0, queued: 0 });
  });

  it("serves an allocation's stdout and stderr by bytes, from the start or the end", async () => {
    const update = (count: number) =>
      genvid('POST', '/v1/jobs/updatecounts', { jobID: 'web', taskGroup: 'web', count });
    expect((await update(1)).status).toBe(200);
    await waitForSummary(suite.url, 'web', { running: 1 });
    const alloc = (await serviceJob(suite.url, 'web')).taskGroups[0]!.allocations[0]!.id;
    const fs = (path: string) =>
      http(suite.spindle.dialectUrls['genvid']!, 'GET', `/v1/log/fs/${alloc}/web/${path}`);
    let stdout = await fs('stdout');
    await waitUntil(async () => (stdout = await fs('stdout')).text.includes('tick'));
    expect(stdout.status).toBe(200);
    expect(stdout.headers.get('content-type')).toContain('text/plain');
    expect(stdout.text).toMatch(/^serving \d+\ntick\n/);
    const stderr = await fs('stderr');
    expect(stderr.text).toBe('ready\n');
    expect((await fs('stdout?offset=8')).text).toMatch(/^\d+\ntick\n/);
    expect((await fs('stderr?origin=end&offset=3')).text).toBe('dy\n');
    expect((await fs('stdout?origin=end&offset=5')).text).toBe('tick\n');
    const bad = await fs('stdin');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('stdout or stderr');
    const missing = await http(
      suite.spindle.dialectUrls['genvid']!,
      'GET',
      '/v1/log/fs/0193a5b2-7c1e-7f00-8000-c0ffee0000a1/web/stdout',
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('not found');
    expect((await update(0)).status).toBe(200);
    await waitForSummary(suite.url, 'web', { running: 0, starting: 0, queued: 0 });
  });

  it('stops a job: dead, every instance stopped', async () => {
    const stopped = await genvid('POST', '/v1/jobs/stop/web');
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ name: 'web', status: 'dead', taskGroups: [{ count: 0 }] });
    await waitForSummary(suite.url, 'web', { running: 0, starting: 0, queued: 0 });
  });

  it('answers what it cannot do with a JSON {error}: 404 for a job or group it lacks, 400 naming a bad field', async () => {
    for (const [path, body] of [
      ['/v1/jobs/start/nope', undefined],
      ['/v1/jobs/stop/nope', undefined],
      ['/v1/jobs/updatecounts', { jobID: 'nope', taskGroup: 'web', count: 1 }],
    ] as const) {
      const res = await genvid('POST', path, body);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.body.error).toContain('nope');
    }
    const noGroup = await genvid('POST', '/v1/jobs/updatecounts', {
      jobID: 'web',
      taskGroup: 'db',
      count: 1,
    });
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.error).toContain('db');
    const notStarted = await genvid('POST', '/v1/jobs/updatecounts', {
      jobID: 'web',
      taskGroup: 'web',
      count: 1,
    });
    expect(notStarted.status).toBe(409);
    const bad = await genvid('POST', '/v1/jobs/updatecounts', {
      jobID: 'web',
      taskGroup: 'web',
      count: 'many',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('count');
    const badIndex = await genvid('GET', '/v1/jobs', undefined, { waitIndex: 'soon' });
    expect(badIndex.status).toBe(400);
    expect(badIndex.body.error).toContain('waitIndex');
  });

  it('blocks a long poll until the wait ends when nothing changes, and answers the same index', async () => {
    const { index } = await jobs();
    const sentAt = Date.now();
    const after = await jobs({ waitIndex: String(index) }, '?wait=1s');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_000);
    expect(after.index).toBe(index);
  });

  it('wakes a long poll within 100 ms of an updatecounts, and not before', async () => {
    expect((await define('lobby', 0, 2)).status).toBe(201);
    expect((await genvid('POST', '/v1/jobs/start/lobby')).status).toBe(200);
    const { index } = await jobs();
    let answeredAt = 0;
    const poll = jobs({ waitIndex: String(index) }).then((answer) => {
      answeredAt = Date.now();
      return answer;
    });
    // Nothing changes meanwhile: the poll is still waiting.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(answeredAt).toBe(0);
    const updated = await genvid('POST', '/v1/jobs/updatecounts', {
      jobID: 'lobby',
      taskGroup: 'web',
      count: 1,
    });
    const updatedAt = Date.now();
    expect(updated.status).toBe(200);
    const woken = await poll;
    expect(answeredAt - updatedAt).toBeLessThanOrEqual(100);
    expect(woken.index).toBeGreaterThan(index);
    expect(woken.jobs.find((j) => j.name === 'lobby')!.taskGroups[0]!.count).toBe(1);
    expect((await genvid('POST', '/v1/jobs/stop/lobby')).status).toBe(200);
  });

  it('wakes a long poll when the jobs view is rebuilt, with a higher index and the same jobs', async () => {
    // Quiet first: no instance left to change the view meanwhile.
    await waitForSummary(suite.url, 'lobby', { running: 0, starting: 0, queued: 0 });
    const before = await jobs();
    let answered = false;
    const poll = jobs({ waitIndex: String(before.index) }).then((answer) => {
      answered = true;
      return answer;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    await expectRebuildRestores(suite.databaseUrl, 'service-jobs', 'service_jobs_v1', "name = 'web'");
    const woken = await poll;
    expect(woken.index).toBeGreaterThan(before.index);
    expect(woken.jobs.map((j) => j.name)).toEqual(before.jobs.map((j) => j.name));
  });

  it('serves the same routes under /compat/genvid on the main port', async () => {
    const res = await http(suite.url, 'GET', '/compat/genvid/v1/jobs');
    expect(res.status).toBe(200);
    expect(res.headers.get('waitIndex')).toMatch(/^\d+$/);
    expect(res.body.map((j: GenvidJob) => j.name)).toEqual(expect.arrayContaining(['web', 'lobby']));
  });
});
