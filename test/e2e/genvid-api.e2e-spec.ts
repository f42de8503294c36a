import { EventTopics } from '@spindle/contracts';
import { readKafkaTopic, uniqueName } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(60_000);

// A client that behaves like a Genvid Cluster API client: JSON in and out, on Genvid's own port
// and paths (only host and port changed).
describe.each(SPINDLE_MODES)('Genvid Cluster API over %s', (mode, env) => {
  const suite = spindleSuite({ name: 'genvid', env });
  const genvid = (method: string, path: string, body?: unknown) =>
    http(suite.spindle.dialectUrls['genvid']!, method, path, body);

  describe('secrets', () => {
    it('creates, lists, reads, replaces and deletes a secret, on one store with the native API', async () => {
      const id = uniqueName('command');
      const created = await genvid('POST', `/secrets/secret/${id}`, {
        GENVID_COMMAND_SECRET: 'anothersecret',
        akey: 'avalue',
      });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({});

      const list = await genvid('GET', '/v1/secrets/list');
      expect(list.status).toBe(200);
      expect(list.body.keys).toContain(id);
      expect(list.text).not.toContain('anothersecret'); // a value is never listed

      const read = await genvid('GET', `/secrets/secret/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ GENVID_COMMAND_SECRET: 'anothersecret', akey: 'avalue' });

      // POST replaces the whole map: a key left out is gone
      expect((await genvid('POST', `/secrets/secret/${id}`, { akey: 'other' })).status).toBe(200);
      expect((await genvid('GET', `/secrets/secret/${id}`)).body).toEqual({ akey: 'other' });

      // the same secret through the native API: one store
      const native = await http(suite.url, 'GET', `/api/v1/secrets/${id}`);
      expect(native.body.values).toEqual({ akey: 'other' });
      expect(native.body.version).toBe(2);

      const deleted = await genvid('DELETE', `/secrets/secret/${id}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({});
      expect((await genvid('GET', '/v1/secrets/list')).body.keys).not.toContain(id);
      const gone = await genvid('GET', `/secrets/secret/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.headers.get('content-type')).toContain('application/json');
      expect(gone.body.error).toEqual(expect.any(String));
      expect((await genvid('DELETE', `/secrets/secret/${id}`)).status).toBe(404);
    });

    it('answers a bad body or id with a 400 {error} naming what is wrong, never a value', async () => {
      const id = uniqueName('bad');
      const badKey = await genvid('POST', `/secrets/secret/${id}`, { 'not a name': 'hidden-value' });
      expect(badKey.status).toBe(400);
      expect(badKey.body.error).toContain('not a name');
      expect(badKey.text).not.toContain('hidden-value');

      const notString = await genvid('POST', `/secrets/secret/${id}`, { akey: 42 });
      expect(notString.status).toBe(400);
      expect(notString.body.error).toContain('akey');

      expect((await genvid('POST', `/secrets/secret/${id}`, {})).status).toBe(400);
      expect((await genvid('POST', `/secrets/secret/${id}`, ['a'])).status).toBe(400);
      const badId = await genvid('GET', '/secrets/secret/-nope');
      expect(badId.status).toBe(400);
      expect(badId.body.error).toContain('secret id');
      expect((await genvid('GET', '/v1/secrets/list')).body.keys).not.toContain(id);
    });

    it('answers a body that is not JSON with a 400 {error}, and the native API with problem+json', async () => {
      const post = (url: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"akey": ' });
      const response = await post(`${suite.spindle.dialectUrls['genvid']}/secrets/secret/${uniqueName('x')}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(((await response.json()) as { error: unknown }).error).toEqual(expect.any(String));
      const native = await post(`${suite.url}/api/v1/contexts`);
      expect(native.status).toBe(400);
      expect(native.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers a path Spindle does not offer with a JSON 404', async () => {
      const unknown = await genvid('GET', '/v1/nothing/here');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error: expect.any(String) });
    });
  });

  describe('settings', () => {
    const DEFAULTS = {
      jobs: { startTimeoutMs: null, performTimeoutMs: null },
      logs: { maxPageLines: 25_000 },
    };

    beforeAll(async () => {
      await upload(suite.url, 'tools.js', PROGRAMS['tools.js']);
      await registerFunction(suite.url, 'lines', 'tools.js', 'node', 'lines');
    });

    it('answers the defaults and the JSON Schema that validates them', async () => {
      expect((await genvid('GET', '/v1/settings/default')).body).toEqual(DEFAULTS);
      expect((await genvid('GET', '/v1/settings')).body).toEqual(DEFAULTS);
      const schema = await genvid('GET', '/v1/schemas/settings.json');
      expect(schema.status).toBe(200);
      expect(schema.body).toMatchObject({
        type: 'object',
        additionalProperties: false,
        properties: { jobs: { type: 'object' }, logs: { type: 'object' } },
      });
      expect(schema.body.properties.logs.properties.maxPageLines).toMatchObject({ default: 25_000 });
    });

    it('refuses a bad document with a 400 naming each invalid path, and changes nothing', async () => {
      const bad = await genvid('POST', '/v1/settings', {
        jobs: { startTimeoutMs: 'soon' },
        logs: { maxPageLines: 0, colour: 'red' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain('jobs.startTimeoutMs');
      expect(bad.body.error).toContain('logs.maxPageLines');
      expect(bad.body.error).toContain('logs.colour');
      expect((await genvid('GET', '/v1/settings')).body).toEqual(DEFAULTS);
      // the native API refuses the same document as problem+json
      const native = await http(suite.url, 'PUT', '/api/v1/settings', { jobs: { performTimeoutMs: -5 } });
      expect(native.status).toBe(400);
      expect(native.headers.get('content-type')).toContain('application/problem+json');
      expect(native.body.errors.map((e: { field: string }) => e.field)).toEqual(['jobs.performTimeoutMs']);
    });

    it('sets a document, filling what is missing with defaults, and the services obey it at once', async () => {
      const set = await genvid('POST', '/v1/settings', {
        jobs: { performTimeoutMs: 60_000 },
        logs: { maxPageLines: 3 },
      });
      expect(set.status).toBe(200);
      const expected = {
        jobs: { startTimeoutMs: null, performTimeoutMs: 60_000 },
        logs: { maxPageLines: 3 },
      };
      expect(set.body).toEqual(expected);
      expect((await genvid('GET', '/v1/settings')).body).toEqual(expected);
      expect((await http(suite.url, 'GET', '/api/v1/settings')).body).toEqual(expected);

      // a job submitted without timeouts takes the default in force; its log pages are cut to 3
      const job = await submit(suite.url, 'lines', { args: { n: 5 } });
      expect(job).toMatchObject({ startTimeout: null, performTimeout: '60000ms' });
      const done = await waitForState(suite.url, job.id);
      expect(done.state).toBe('succeeded');
      const cut = await http(suite.url, 'GET', `/api/v1/jobs/${job.id}/logs?from=0&size=10`);
      expect(cut.body.items.map((l: { text: string }) => l.text)).toEqual(['line 1', 'line 2', 'line 3']);
      expect(cut.body.next).toBe(3);

      // changed again through the native API: obeyed by the next request, no restart
      const back = await http(suite.url, 'PUT', '/api/v1/settings', { jobs: { startTimeoutMs: 30_000 } });
      expect(back.status).toBe(200);
      expect(back.body).toEqual({ ...DEFAULTS, jobs: { startTimeoutMs: 30_000, performTimeoutMs: null } });
      const all = await http(suite.url, 'GET', `/api/v1/jobs/${job.id}/logs?from=0&size=10`);
      expect(all.body.items).toHaveLength(5);
      const next = await submit(suite.url, 'lines', { args: { n: 1 }, performTimeout: '2m' });
      expect(next).toMatchObject({ startTimeout: '30000ms', performTimeout: '120000ms' });

      // back to the defaults, for the other tests
      expect((await genvid('POST', '/v1/settings', {})).body).toEqual(DEFAULTS);
    });
    it('keeps the settings across a restart', async () => {
      const document = {
        jobs: { startTimeoutMs: 45_000, performTimeoutMs: null },
        logs: { maxPageLines: 500 },
      };
      expect((await genvid('POST', '/v1/settings', document)).status).toBe(200);
      await suite.restart();
      expect((await genvid('GET', '/v1/settings')).body).toEqual(document);
      expect((await genvid('POST', '/v1/settings', {})).body).toEqual(DEFAULTS);
    });

    if (mode === 'Kafka') {
      it('records a change as an event on the versioned topic, keyed by its stream', async () => {
        // the broker outlives the suite: find this change by a value no other run sets
        const startTimeoutMs = 1_000_000 + Math.floor(Math.random() * 1_000_000);
        await genvid('POST', '/v1/settings', { jobs: { startTimeoutMs } });
        const mine = (value: string) => value.includes(`"startTimeoutMs":${startTimeoutMs}`);
        const records = await readKafkaTopic(suite.kafkaTopic(EventTopics.schedulerSettings), (r) =>
          r.some((x) => mine(x.value)),
        );
        const record = records.find((r) => mine(r.value))!;
        expect(record.key).toBe('settings');
        expect(JSON.parse(record.value)).toMatchObject({
          type: 'SettingsChanged',
          version: 1,
          streamId: 'settings',
          data: {
            settings: { jobs: { startTimeoutMs, performTimeoutMs: null }, logs: { maxPageLines: 25_000 } },
          },
        });
        await genvid('POST', '/v1/settings', {});
      });
    }
  });

  describe('OpenAPI', () => {
    it('publishes its own document on the main port and on the Genvid port', async () => {
      const compat = await http(suite.url, 'GET', '/compat/genvid/openapi.json');
      expect(compat.status).toBe(200);
      expect(compat.body.info.title).toContain('Genvid');
      expect(Object.keys(compat.body.paths)).toEqual(
        expect.arrayContaining([
          '/compat/genvid/v1/secrets/list',
          '/compat/genvid/secrets/secret/{id}',
          '/compat/genvid/v1/settings',
          '/compat/genvid/v1/settings/default',
          '/compat/genvid/v1/schemas/settings.json',
        ]),
      );
      expect(Object.keys(compat.body.paths).some((p) => p.startsWith('/api/'))).toBe(false);
      const own = await genvid('GET', '/openapi.json');
      expect(own.status).toBe(200);
      expect(own.body.info.title).toBe(compat.body.info.title);
      expect((await http(suite.url, 'GET', '/compat/genvid/docs')).status).toBe(200);
    });
  });
});
