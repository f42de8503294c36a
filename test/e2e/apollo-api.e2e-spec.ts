import { createHash } from 'node:crypto';
import { uniqueName } from '@spindle/testing';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(60_000);

// A client that behaves like an Apollo coordinator client (its docs' curl calls): Apollo's own
// port and paths, multipart `program` uploads, plain-text errors and empty 404s.
describe.each(SPINDLE_MODES)('Apollo coordinator API over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'apollo', env });
  const apolloUrl = () => suite.spindle.dialectUrls['apollo']!;
  const apollo = (method: string, path: string, body?: unknown) => http(apolloUrl(), method, path, body);
  const putProgram = (name: string, content: string, field = 'program') => {
    const form = new FormData();
    form.append(field, new Blob([content]), name);
    return fetch(`${apolloUrl()}/api/v1/artifacts`, { method: 'PUT', body: form });
  };
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  describe('artifacts', () => {
    it('stores a program under its upload file name, keeps it for the same content, replaces it for other content', async () => {
      const name = uniqueName('mapper');
      const one = '#!/bin/sh\necho one\n';
      const two = '#!/bin/sh\necho two!\n';
      const first = await putProgram(name, one);
      expect(first.status).toBe(200);
      const stored = (await first.json()) as Record<string, unknown>;
      expect(stored).toEqual({ name, type: 'executable', size: one.length, hash: sha256(one) });

      const again = await putProgram(name, one);
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(stored);

      const replaced = await putProgram(name, two);
      expect(replaced.status).toBe(200);
      expect(await replaced.json()).toEqual({
        name,
        type: 'executable',
        size: two.length,
        hash: sha256(two),
      });

      const read = await apollo('GET', `/api/v1/artifacts/${name}`);
      expect(read.status).toBe(200);
      expect(read.body.hash).toBe(sha256(two));
      const list = await apollo('GET', '/api/v1/artifacts');
      expect(list.status).toBe(200);
      expect(list.body).toContainEqual(read.body);

      // the native API sees the same artifact
      const native = await http(suite.url, 'GET', `/api/v1/artifacts/${name}`);
      expect(native.status).toBe(200);
      expect(native.body.sha256).toBe(read.body.hash);

      const deleted = await apollo('DELETE', `/api/v1/artifacts/${name}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      const gone = await apollo('GET', `/api/v1/artifacts/${name}`);
      expect(gone.status).toBe(404);
      expect(gone.text).toBe(''); // as the coordinator: an empty body
      expect((await apollo('GET', '/api/v1/artifacts')).body).not.toContainEqual(
        expect.objectContaining({ name }),
      );
      expect((await apollo('DELETE', `/api/v1/artifacts/${name}`)).status).toBe(404);
    });

    it('answers a missing program field or an unsafe file name with a plain-text 400 naming it, and stores nothing', async () => {
      const name = uniqueName('prog');
      const wrongField = await putProgram(name, 'x', 'file');
      expect(wrongField.status).toBe(400);
      expect(wrongField.headers.get('content-type')).toContain('text/plain');
      expect(await wrongField.text()).toMatch(/program: multipart field "program" is required\n$/);
      expect((await apollo('GET', `/api/v1/artifacts/${name}`)).status).toBe(404);

      const unsafe = await putProgram('../escape', 'x');
      expect(unsafe.status).toBe(400);
      expect(await unsafe.text()).toContain('program.filename');
    });
  });

  it('answers an unknown path under /api/v1 with a plain-text 404, and serves its own OpenAPI document', async () => {
    const unknown = await apollo('GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('text/plain');
    const openapi = await http(suite.url, 'GET', '/compat/apollo/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/compat/apollo/api/v1/artifacts', '/compat/apollo/api/v1/artifacts/{name}']),
    );
  });
});
