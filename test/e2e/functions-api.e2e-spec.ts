import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { AUTH } from '../support/auth';
import { submit, waitForState } from '../support/jobs';

async function upload(url: string, name: string, content: string): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([content]), name);
  return (await fetch(`${url}/api/v1/artifacts`, { method: 'POST', body: form, headers: AUTH })).status;
}

describe.each(SPINDLE_MODES)('functions API over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'functions', env });

  beforeAll(async () => {
    expect(await upload(suite.url, 'sum.py', 'def run(a, b):\n    return a + b\n')).toBe(201);
  });

  it('registers a function on an uploaded artifact and reads it back at once', async () => {
    const created = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'sum',
      artifact: 'sum.py',
      entrypoint: 'run',
      runtime: 'python',
      tags: ['math'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'sum',
      artifact: 'sum.py',
      entrypoint: 'run',
      runtime: 'python',
      defaultContext: 'default',
      tags: ['math'],
    });
    const read = await http(suite.url, 'GET', '/api/v1/functions/sum');
    expect(read.status).toBe(200);
    expect(
      (await http(suite.url, 'GET', '/api/v1/functions?tag=math')).body.items.map(
        (f: { name: string }) => f.name,
      ),
    ).toEqual(['sum']);
    expect((await http(suite.url, 'GET', '/api/v1/functions?tag=other')).body.items).toEqual([]);
  });

  it('refuses an unknown artifact or context, naming the field, and registers nothing', async () => {
    const res = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'broken',
      artifact: 'missing.py',
      runtime: 'python',
      defaultContext: 'nowhere',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ field: 'artifact', rule: 'exists' }),
      expect.objectContaining({ field: 'defaultContext', rule: 'exists' }),
    ]);
    expect((await http(suite.url, 'GET', '/api/v1/functions/broken')).status).toBe(404);
  });

  it('validates the body', async () => {
    const res = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'bad name',
      artifact: 'sum.py',
      runtime: 'cobol',
      tags: ['ok', 'not ok'],
    });
    expect(res.status).toBe(400);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'runtime', 'tags']));
  });

  it('refuses a duplicate name', async () => {
    await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'twice',
      artifact: 'sum.py',
      runtime: 'python',
    });
    const again = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'twice',
      artifact: 'sum.py',
      runtime: 'exec',
    });
    expect(again.status).toBe(409);
    expect((await http(suite.url, 'GET', '/api/v1/functions/twice')).body.runtime).toBe('python');
  });

  it('changes, deletes, and keeps an artifact in use from being deleted', async () => {
    await upload(suite.url, 'tool.sh', '#!/bin/sh\necho 1\n');
    await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'tool',
      artifact: 'tool.sh',
      runtime: 'exec',
    });
    const changed = await http(suite.url, 'PUT', '/api/v1/functions/tool', { tags: ['ops'] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ runtime: 'exec', tags: ['ops'] });

    const inUse = await http(suite.url, 'DELETE', '/api/v1/artifacts/tool.sh');
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toContain('tool');

    expect((await http(suite.url, 'DELETE', '/api/v1/functions/tool')).status).toBe(204);
    expect((await http(suite.url, 'GET', '/api/v1/functions/tool')).status).toBe(404);
    expect((await http(suite.url, 'DELETE', '/api/v1/artifacts/tool.sh')).status).toBe(204);
  });

  it('runs a function with libraries beside its program, shows them, and keeps them from being deleted', async () => {
    // A python module that imports another, a node module that requires one: each a library.
    expect(await upload(suite.url, 'lib-helpers.py', "GREETING = 'hello from helpers'\n")).toBe(201);
    expect(
      await upload(suite.url, 'greet.py', 'import helpers\n\ndef run():\n    return helpers.GREETING\n'),
    ).toBe(201);
    expect(await upload(suite.url, 'shout.cjs', "module.exports = (s) => s.toUpperCase() + '!';\n")).toBe(
      201,
    );
    expect(
      await upload(
        suite.url,
        'greet.cjs',
        "const shout = require('./shout.cjs');\nexports.run = () => shout('hello from node');\n",
      ),
    ).toBe(201);
    const created = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'greet',
      artifact: 'greet.py',
      entrypoint: 'run',
      runtime: 'python',
      libraries: [{ artifact: 'lib-helpers.py', fileName: 'helpers.py' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.libraries).toEqual([{ artifact: 'lib-helpers.py', fileName: 'helpers.py' }]);
    expect((await http(suite.url, 'GET', '/api/v1/functions/greet')).body.libraries).toEqual([
      { artifact: 'lib-helpers.py', fileName: 'helpers.py' },
    ]);
    const node = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'greet-node',
      artifact: 'greet.cjs',
      entrypoint: 'run',
      runtime: 'node',
      libraries: [{ artifact: 'shout.cjs' }],
    });
    expect(node.body.libraries).toEqual([{ artifact: 'shout.cjs', fileName: 'shout.cjs' }]);

    const python = await waitForState(suite.url, (await submit(suite.url, 'greet', { args: {} })).id);
    expect(python).toMatchObject({ state: 'succeeded', result: 'hello from helpers' });
    const js = await waitForState(suite.url, (await submit(suite.url, 'greet-node', { args: {} })).id);
    expect(js).toMatchObject({ state: 'succeeded', result: 'HELLO FROM NODE!' });

    // A library in use is refused like a program in use.
    const inUse = await http(suite.url, 'DELETE', '/api/v1/artifacts/lib-helpers.py');
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toContain('greet');
    // Unknown libraries and two files under one name are refused, naming the field.
    const unknown = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'greet-broken',
      artifact: 'greet.py',
      runtime: 'python',
      libraries: [{ artifact: 'lib-helpers.py' }, { artifact: 'nowhere.py' }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      expect.objectContaining({ field: 'libraries.1.artifact', rule: 'exists' }),
    ]);
    const clash = await http(suite.url, 'PUT', '/api/v1/functions/greet', {
      libraries: [{ artifact: 'lib-helpers.py', fileName: 'greet.py' }],
    });
    expect(clash.status).toBe(400);
    expect(clash.body.errors).toEqual([expect.objectContaining({ field: 'libraries' })]);
    const tooMany = await http(suite.url, 'PUT', '/api/v1/functions/greet', {
      libraries: Array.from({ length: 51 }, (_, i) => ({ artifact: 'lib-helpers.py', fileName: `h${i}.py` })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([expect.objectContaining({ field: 'libraries' })]);

    // Once no function uses it, it goes.
    const dropped = await http(suite.url, 'PUT', '/api/v1/functions/greet', { libraries: [] });
    expect(dropped.body.libraries).toEqual([]);
    expect((await http(suite.url, 'DELETE', '/api/v1/artifacts/lib-helpers.py')).status).toBe(204);
  });

  it('versions a function: a change based on a stale ETag is refused with 412', async () => {
    await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'vsum',
      artifact: 'sum.py',
      runtime: 'python',
      entrypoint: 'run',
    });
    const etag = (await http(suite.url, 'GET', '/api/v1/functions/vsum')).headers.get('etag')!;
    const changed = await http(
      suite.url,
      'PUT',
      '/api/v1/functions/vsum',
      { retries: 1 },
      { 'if-match': etag },
    );
    expect(changed.status).toBe(200);
    const stale = await http(
      suite.url,
      'PUT',
      '/api/v1/functions/vsum',
      { retries: 2 },
      { 'if-match': etag },
    );
    expect(stale.status).toBe(412);
    expect((await http(suite.url, 'GET', '/api/v1/functions/vsum')).body.retries).toBe(1);
  });

  it('keeps a retry policy (0–10, default 0) and refuses one out of range, naming retries', async () => {
    const plain = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'once',
      artifact: 'sum.py',
      runtime: 'python',
    });
    expect(plain.body.retries).toBe(0);
    const created = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'again',
      artifact: 'sum.py',
      runtime: 'python',
      retries: 3,
    });
    expect(created.status).toBe(201);
    expect(created.body.retries).toBe(3);
    // A change that leaves it out keeps it; one that names it sets it.
    expect((await http(suite.url, 'PUT', '/api/v1/functions/again', { tags: ['x'] })).body.retries).toBe(3);
    expect((await http(suite.url, 'PUT', '/api/v1/functions/again', { retries: 10 })).body.retries).toBe(10);
    for (const retries of [-1, 11, 1.5, '2']) {
      const refused = await http(suite.url, 'POST', '/api/v1/functions', {
        name: 'wrong',
        artifact: 'sum.py',
        runtime: 'python',
        retries,
      });
      expect({ retries, status: refused.status }).toEqual({ retries, status: 400 });
      expect(new Set((refused.body.errors as { field: string }[]).map((e) => e.field))).toEqual(
        new Set(['retries']),
      );
    }
    expect((await http(suite.url, 'PUT', '/api/v1/functions/again', { retries: 99 })).status).toBe(400);
    expect((await http(suite.url, 'GET', '/api/v1/functions/wrong')).status).toBe(404);
    expect((await http(suite.url, 'GET', '/api/v1/functions/again')).body.retries).toBe(10);
  });
});
