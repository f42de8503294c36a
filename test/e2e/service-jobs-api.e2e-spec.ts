import { http } from '../support/http';
import { processAlive } from '../support/jobs';
import type { Job } from '../support/jobs';
import { defineServe, serviceJob, waitForSummary } from '../support/service-jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

// Service jobs on the native API: task groups of long-running instances (exec processes through
// the worker agent), kept at their counts, restarted when they die, stopped when asked.
describe.each(SPINDLE_MODES)('service jobs over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'service-jobs', env });
  const base = '/api/v1/service-jobs';
  const group = { name: 'front', function: 'serve', args: { port: 8000 }, countInit: 2, countMax: 3 };

  beforeAll(async () => {
    await defineServe(suite.url);
  });

  it('refuses a bad definition, naming the field and the rule, and records nothing', async () => {
    const cases: [unknown, string][] = [
      [{ name: '../x', taskGroups: [group] }, 'name'],
      [{ name: 'bad', taskGroups: [] }, 'taskGroups'],
      [{ name: 'bad', taskGroups: [{ ...group, countMax: 101 }] }, 'taskGroups.0.countMax'],
      [{ name: 'bad', taskGroups: [{ ...group, countInit: 4 }] }, 'taskGroups.0.countInit'],
      [{ name: 'bad', taskGroups: [{ ...group, function: 'nope' }] }, 'taskGroups.0.function'],
      [{ name: 'bad', taskGroups: [group, group] }, 'taskGroups'],
    ];
    for (const [body, field] of cases) {
      const res = await http(suite.url, 'POST', base, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await http(suite.url, 'GET', `${base}/bad`)).status).toBe(404);
  });

  it('creates a job, dead until started, readable at once with its version', async () => {
    const created = await http(suite.url, 'POST', base, { name: 'web', taskGroups: [group] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${base}/web`);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.body).toMatchObject({
      name: 'web',
      status: 'dead',
      taskGroups: [
        {
          name: 'front',
          function: 'serve',
          context: 'services',
          count: 0,
          countInit: 2,
          countMax: 3,
          summary: { queued: 0, starting: 0, running: 0, complete: 0, failed: 0, lost: 0 },
          allocations: [],
        },
      ],
    });
    expect((await http(suite.url, 'POST', base, { name: 'web', taskGroups: [group] })).status).toBe(409);
    const page = await http(suite.url, 'GET', `${base}?limit=10`);
    expect(page.body.items.map((j: { name: string }) => j.name)).toContain('web');
  });

  it('starts countInit instances, each a running job of the function', async () => {
    const started = await http(suite.url, 'POST', `${base}/web/start`);
    expect(started.status).toBe(200);
    expect(started.body.taskGroups[0].count).toBe(2);
    const job = await waitForSummary(suite.url, 'web', { running: 2 });
    expect(job.status).toBe('running');
    for (const alloc of job.taskGroups[0]!.allocations) {
      const instance = await http<Job>(suite.url, 'GET', `/api/v1/jobs/${alloc.id}`);
      expect(instance.body).toMatchObject({ state: 'running', function: 'serve', context: 'services' });
      expect(processAlive(instance.body.pid!)).toBe(true);
    }
  });

  it('sets a group count within countMax, refusing one past it or a stale version', async () => {
    const { headers } = await http(suite.url, 'GET', `${base}/web`);
    const stale = await http(
      suite.url,
      'PUT',
      `${base}/web/task-groups/front/count`,
      { count: 3 },
      {
        'if-match': '"1"',
      },
    );
    expect(stale.status).toBe(412);
    const over = await http(suite.url, 'PUT', `${base}/web/task-groups/front/count`, { count: 4 });
    expect(over.status).toBe(400);
    expect(over.body.errors[0]).toMatchObject({ field: 'count' });
    const noGroup = await http(suite.url, 'PUT', `${base}/web/task-groups/back/count`, { count: 1 });
    expect(noGroup.status).toBe(404);
    const scaled = await http(
      suite.url,
      'PUT',
      `${base}/web/task-groups/front/count`,
      { count: 3 },
      {
        'if-match': headers.get('etag')!,
      },
    );
    expect(scaled.status).toBe(200);
    expect(scaled.body.taskGroups[0].count).toBe(3);
    await waitForSummary(suite.url, 'web', { running: 3 });
  });

  it('restarts an instance killed with kill -9, and counts it failed', async () => {
    const before = await serviceJob(suite.url, 'web');
    const victim = before.taskGroups[0]!.allocations[0]!.id;
    const { pid } = (await http<Job>(suite.url, 'GET', `/api/v1/jobs/${victim}`)).body;
    process.kill(pid!, 'SIGKILL');
    const after = await waitForSummary(suite.url, 'web', { running: 3, failed: 1 });
    const ids = after.taskGroups[0]!.allocations.map((a) => a.id);
    expect(ids).not.toContain(victim);
    expect(ids).toHaveLength(3);
    expect((await http<Job>(suite.url, 'GET', `/api/v1/jobs/${victim}`)).body.state).toBe('failed');
  });

  it('stops every instance on stop: each counted complete, the job dead', async () => {
    const running = (await serviceJob(suite.url, 'web')).taskGroups[0]!.allocations.map((a) => a.id);
    const pids = await Promise.all(
      running.map(async (id) => (await http<Job>(suite.url, 'GET', `/api/v1/jobs/${id}`)).body.pid!),
    );
    const stopped = await http(suite.url, 'POST', `${base}/web/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.taskGroups[0].count).toBe(0);
    const job = await waitForSummary(suite.url, 'web', { running: 0, starting: 0, queued: 0, complete: 3 });
    expect(job.status).toBe('dead');
    await waitUntil(() => pids.every((pid) => !processAlive(pid)));
    const scale = await http(suite.url, 'PUT', `${base}/web/task-groups/front/count`, { count: 1 });
    expect(scale.status).toBe(409);
  });

  it('deletes a job: gone from reads and lists', async () => {
    expect((await http(suite.url, 'DELETE', `${base}/web`)).status).toBe(204);
    expect((await http(suite.url, 'GET', `${base}/web`)).status).toBe(404);
    const page = await http(suite.url, 'GET', base);
    expect(page.body.items.map((j: { name: string }) => j.name)).not.toContain('web');
    expect((await http(suite.url, 'DELETE', `${base}/web`)).status).toBe(404);
  });
});
