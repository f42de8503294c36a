import { uniqueName } from '@spindle/testing';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(60_000);

// A client that behaves like a Genvid Cluster API client: JSON in and out, on Genvid's own port
// and paths (only host and port changed).
describe.each(SPINDLE_MODES)('Genvid Cluster API over %s', (_mode, env) => {
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

    it('answers a path Spindle does not offer with a JSON 404', async () => {
      const unknown = await genvid('GET', '/v1/nothing/here');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error: expect.any(String) });
    });
  });

  describe('OpenAPI', () => {
    it('publishes its own document on the main port and on the Genvid port', async () => {
      const compat = await http(suite.url, 'GET', '/compat/genvid/openapi.json');
      expect(compat.status).toBe(200);
      expect(compat.body.info.title).toContain('Genvid');
      expect(Object.keys(compat.body.paths)).toEqual(
        expect.arrayContaining(['/compat/genvid/v1/secrets/list', '/compat/genvid/secrets/secret/{id}']),
      );
      expect(Object.keys(compat.body.paths).some((p) => p.startsWith('/api/'))).toBe(false);
      const own = await genvid('GET', '/openapi.json');
      expect(own.status).toBe(200);
      expect(own.body.info.title).toBe(compat.body.info.title);
      expect((await http(suite.url, 'GET', '/compat/genvid/docs')).status).toBe(200);
    });
  });
});
