import { uniqueName } from '@spindle/testing';
import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';
import { defineServe, waitForSummary } from '../support/service-jobs';
import { waitUntil } from '../support/wait';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(90_000);

// Programs that read their logger levels with the helpers of runtimes/ while they run: each
// answers the level it started with and the one it saw change to, or times out. Each says
// "watching" once it has read the first level: a job is `running` from its process's start,
// before the program has read anything, and a level set before then is the one it starts with.
const LOGGER_PROGRAMS = {
  'loggers.js': `
exports.watchLevel = async (args) => {
  const loggers = require('spindle-loggers').watch();
  const first = loggers.level('web', 'http');
  const then = await new Promise((resolve) => {
    loggers.onChange(() => {
      if (loggers.level('web', 'http') === args.until) resolve(loggers.level('web', 'http'));
    });
    setTimeout(() => resolve(loggers.level('web', 'http')), 60_000);
    console.log('watching');
  });
  loggers.close();
  return { first, then, debugEnabled: loggers.enabled('web', 'http', 'debug') };
};
`,
  'loggers.py': `
import logging, threading
import spindle_loggers

def watch_level(until):
    loggers = spindle_loggers.watch("web")
    first = loggers.level("web", "http")
    changed = threading.Event()
    loggers.on_change(lambda levels: changed.set() if levels.get("web", {}).get("http") == until else None)
    print("watching", flush=True)
    changed.wait(60)
    loggers.close()
    return {"first": first, "then": loggers.level("web", "http"), "python": logging.getLogger("http").level}
`,
};

// A Genvid client's view of logs and loggers: its paths on its own port, JSON in and out.
describe.each(SPINDLE_MODES)('Genvid logs and loggers over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'genvid-logs', env });
  const genvid = (method: string, path: string, body?: unknown) =>
    http(suite.spindle.dialectUrls['genvid']!, method, path, body);

  beforeAll(async () => {
    for (const [name, content] of Object.entries(LOGGER_PROGRAMS)) await upload(suite.url, name, content);
    await registerFunction(suite.url, 'watch-level', 'loggers.js', 'node', 'watchLevel');
    await registerFunction(suite.url, 'watch-level-py', 'loggers.py', 'python', 'watch_level');
    await defineServe(suite.url);
  });

  describe('the log catalogue', () => {
    it('replaces the whole catalogue and reads it back', async () => {
      const web = {
        id: uniqueName('web'),
        group: 'web',
        job: 'watch-level',
        task: 'server',
        fileName: 'stdout',
        logLevel: true,
      };
      const ws = { ...web, id: uniqueName('ws'), fileName: 'stderr', logLevel: false };
      const set = await genvid('POST', '/v1/log/logs', [web, ws]);
      expect(set.status).toBe(200);
      expect(set.body).toEqual([web, ws]);
      expect((await genvid('GET', '/v1/log/logs')).body).toEqual([web, ws]);

      // every previous entry is deleted or replaced
      const replaced = { ...web, fileName: 'web.log' };
      expect((await genvid('POST', '/v1/log/logs', [replaced])).status).toBe(200);
      expect((await genvid('GET', '/v1/log/logs')).body).toEqual([replaced]);
    });

    it('refuses a bad catalogue with a 400 {error} naming the field, and keeps the one in force', async () => {
      const entry = {
        id: uniqueName('log'),
        group: 'g',
        job: 'j',
        task: 't',
        fileName: 'stdout',
        logLevel: true,
      };
      expect((await genvid('POST', '/v1/log/logs', [entry])).status).toBe(200);

      const badType = await genvid('POST', '/v1/log/logs', [{ ...entry, logLevel: 'yes' }]);
      expect(badType.status).toBe(400);
      expect(badType.headers.get('content-type')).toContain('application/json');
      expect(badType.body.error).toContain('0.logLevel');
      const unknown = await genvid('POST', '/v1/log/logs', [{ ...entry, colour: 'red' }]);
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toContain('0.colour');
      const twice = await genvid('POST', '/v1/log/logs', [entry, entry]);
      expect(twice.status).toBe(400);
      expect(twice.body.error).toContain('unique');
      expect((await genvid('POST', '/v1/log/logs', { id: 'x' })).status).toBe(400);

      expect((await genvid('GET', '/v1/log/logs')).body).toEqual([entry]);
    });

    it("answers a log's meta: one entry per live allocation of its job's task group, 404 for a log not in the catalogue", async () => {
      const name = uniqueName('metaweb');
      const front = { name: 'front', function: 'serve', countInit: 2, countMax: 3 };
      const created = await http(suite.url, 'POST', '/api/v1/service-jobs', {
        name,
        taskGroups: [front, { ...front, name: 'back', countInit: 1 }],
      });
      expect(created.status).toBe(201);
      const entry = {
        id: uniqueName('meta'),
        group: 'front',
        job: name,
        task: 'server',
        fileName: 'stdout',
        logLevel: true,
      };
      const back = { ...entry, id: uniqueName('meta-back'), group: 'back', logLevel: false };
      const noJob = { ...entry, id: uniqueName('meta-none'), job: 'serve' }; // a function's name is no job
      expect((await genvid('POST', '/v1/log/logs', [entry, back, noJob])).status).toBe(200);
      expect((await genvid('GET', `/v1/log/meta/${entry.id}`)).body).toEqual([]); // not started

      expect((await genvid('POST', `/v1/jobs/start/${name}`)).status).toBe(200);
      const running = await waitForSummary(suite.url, name, { running: 2 });
      const frontIds = running.taskGroups[0]!.allocations.map((a) => a.id).sort();
      const meta = await genvid('GET', `/v1/log/meta/${entry.id}`);
      expect(meta.status).toBe(200);
      expect(meta.body.map((m: { allocID: string }) => m.allocID).sort()).toEqual(frontIds);
      for (const m of meta.body)
        expect(m).toEqual({
          allocID: expect.any(String),
          status: expect.stringMatching(/^(pending|running)$/),
          jobName: name,
          taskName: 'server',
          fileName: 'stdout',
          createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          logLevel: 'true',
        });
      const backMeta = await genvid('GET', `/v1/log/meta/${back.id}`);
      expect(backMeta.body).toHaveLength(1);
      expect(frontIds).not.toContain(backMeta.body[0].allocID);
      expect(backMeta.body[0]).toMatchObject({ jobName: name, logLevel: 'false' });
      expect((await genvid('GET', `/v1/log/meta/${noJob.id}`)).body).toEqual([]);
      // An allocation is known by its service job's name to the loggers too.
      expect((await genvid('GET', `/v1/log/allocs/${frontIds[0]}`)).status).toBe(200);

      const missing = await genvid('GET', `/v1/log/meta/${uniqueName('nope')}`);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toContain('log catalogue');

      // Stopped: no live allocation writes it any more.
      expect((await genvid('POST', `/v1/jobs/stop/${name}`)).status).toBe(200);
      await waitForSummary(suite.url, name, { queued: 0, starting: 0, running: 0, complete: 2 });
      expect((await genvid('GET', `/v1/log/meta/${entry.id}`)).body).toEqual([]);
    });
  });

  describe('loggers', () => {
    it('sets and reads default levels, and refuses a level that is not one of the six', async () => {
      const logger = uniqueName('svc');
      const set = await genvid('POST', `/v1/log/defaults/${logger}`, { leaf: 'info', root: 'warning' });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ leaf: 'info', root: 'warning' });
      expect((await genvid('POST', `/v1/log/defaults/${logger}`, { leaf: 'error' })).body).toEqual({
        leaf: 'error',
        root: 'warning',
      });
      expect((await genvid('GET', '/v1/log/defaults')).body[logger]).toEqual({
        leaf: 'error',
        root: 'warning',
      });

      const bad = await genvid('POST', `/v1/log/defaults/${logger}`, { leaf: 'verbose' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain('leaf');
      expect(bad.body.error).toContain('warning'); // the rule names the levels allowed
      expect((await genvid('POST', `/v1/log/defaults/${logger}`, {})).status).toBe(400);
      expect((await genvid('POST', `/v1/log/defaults/${logger}`, ['info'])).status).toBe(400);
      expect((await genvid('GET', '/v1/log/defaults')).body[logger]).toEqual({
        leaf: 'error',
        root: 'warning',
      });

      // an empty level takes the name away
      expect((await genvid('POST', `/v1/log/defaults/${logger}`, { root: '' })).body).toEqual({
        leaf: 'error',
      });
    });

    it('answers 404 for an allocation that does not exist', async () => {
      const unknown = '0193a5b2-7c1e-7f00-8000-00000000dead';
      expect((await genvid('GET', `/v1/log/allocs/${unknown}`)).status).toBe(404);
      const set = await genvid('POST', `/v1/log/allocs/${unknown}/web`, { http: 'debug' });
      expect(set.status).toBe(404);
      expect(set.body.error).toContain(unknown);
      expect((await genvid('GET', '/v1/log/allocs/not-an-id')).status).toBe(404);
    });

    it.each([
      ['node', 'watch-level'],
      ['python', 'watch-level-py'],
    ])('changes the levels of a running %s process live', async (_runtime, fn) => {
      expect((await genvid('POST', '/v1/log/defaults/web', { http: 'info' })).status).toBe(200);
      const job = await submit(suite.url, fn, { args: { until: 'debug' } });
      await waitForState(suite.url, job.id, ['running']);
      await waitUntil(async () => {
        const log = await http(suite.url, 'GET', `/api/v1/jobs/${job.id}/logs?from=0&size=10`);
        return log.body.items?.some((l: { text: string }) => l.text === 'watching') ?? false;
      }, 30_000);

      const before = await genvid('GET', `/v1/log/allocs/${job.id}`);
      expect(before.status).toBe(200);
      expect(before.body.web).toEqual({ http: '' }); // the default applies

      const set = await genvid('POST', `/v1/log/allocs/${job.id}/web`, { http: 'debug' });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ http: 'debug' });
      expect((await genvid('GET', `/v1/log/allocs/${job.id}`)).body.web).toEqual({ http: 'debug' });

      const done = await waitForState(suite.url, job.id);
      expect(done.state).toBe('succeeded');
      expect(done.result).toEqual(
        _runtime === 'node'
          ? { first: 'info', then: 'debug', debugEnabled: true }
          : { first: 'info', then: 'debug', python: 10 }, // logging.DEBUG applied to logger "http"
      );
      // the default is untouched by the allocation's own level
      expect((await genvid('GET', '/v1/log/defaults')).body.web).toEqual({ http: 'info' });
    });
  });
});
