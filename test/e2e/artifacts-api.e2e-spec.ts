import { createHash, randomBytes } from 'node:crypto';
import { EventTopics } from '@spindle/contracts';
import { readKafkaTopic } from '@spindle/testing';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { AUTH } from '../support/auth';

const LIMIT = 64 * 1024;

async function upload(
  url: string,
  name: string,
  content: Buffer,
  query = '',
  type = 'text/x-python',
  headers: Record<string, string> = {},
) {
  const form = new FormData();
  form.append('file', new Blob([content], { type }), name);
  const response = await fetch(`${url}/api/v1/artifacts${query}`, {
    method: 'POST',
    body: form,
    headers: { ...AUTH, ...headers },
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

function sha(algorithm: string, content: Buffer): string {
  return createHash(algorithm).update(content).digest('hex');
}

describe.each(SPINDLE_MODES)('artifacts API over %s', (mode, env) => {
  const suite = spindleSuite({ name: 'artifacts', env: { ARTIFACT_MAX_BYTES: String(LIMIT), ...env } });

  it('stores an upload, reads its metadata back at once and serves the same bytes', async () => {
    const content = Buffer.from('def run(a, b):\n    return a + b\n');
    const created = await upload(suite.url, 'sum.py', content);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/artifacts/sum.py');
    expect(created.body).toMatchObject({
      name: 'sum.py',
      kind: 'python',
      size: content.length,
      sha256: sha('sha256', content),
      sha1: sha('sha1', content),
      contentType: 'text/x-python',
    });
    const meta = await http(suite.url, 'GET', '/api/v1/artifacts/sum.py');
    expect(meta.status).toBe(200);
    expect(meta.body.sha256).toBe(sha('sha256', content));

    const download = await fetch(`${suite.url}/api/v1/artifacts/sum.py/content`, { headers: AUTH });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
    expect(download.headers.get('content-disposition')).toContain('sum.py');

    const list = await http(suite.url, 'GET', '/api/v1/artifacts');
    expect(list.body.items.map((a: { name: string }) => a.name)).toContain('sum.py');
  });

  it('keeps binary content intact', async () => {
    const content = randomBytes(LIMIT - 1);
    expect((await upload(suite.url, 'blob.bin', content, '', 'application/octet-stream')).status).toBe(201);
    const download = await fetch(`${suite.url}/api/v1/artifacts/blob.bin/content`, { headers: AUTH });
    expect(sha('sha256', Buffer.from(await download.arrayBuffer()))).toBe(sha('sha256', content));
  });

  it('refuses a second upload under the same name unless force=true', async () => {
    const first = await upload(suite.url, 'job.js', Buffer.from('exports.run = () => 1;'));
    expect(first.status).toBe(201);
    const again = await upload(suite.url, 'job.js', Buffer.from('exports.run = () => 2;'));
    expect(again.status).toBe(409);
    expect(again.body.errors[0]).toMatchObject({ field: 'name', rule: 'conflict' });

    const replaced = await upload(suite.url, 'job.js', Buffer.from('exports.run = () => 2;'), '?force=true');
    expect(replaced.status).toBe(201);
    expect(replaced.body.sha256).toBe(sha('sha256', Buffer.from('exports.run = () => 2;')));
    expect(replaced.body.createdAt).toBe(first.body.createdAt);
  });

  it('refuses a file name that would escape its directory, and stores nothing', async () => {
    for (const name of ['../x', 'a/b.py', '..', '.hidden']) {
      const res = await upload(suite.url, name, Buffer.from('x'));
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ field: 'file.filename', rule: 'isSafeFileName' });
    }
    expect((await http(suite.url, 'GET', '/api/v1/artifacts/x')).status).toBe(404);
  });

  it('refuses an upload over the limit with 413, and stores nothing', async () => {
    const res = await upload(suite.url, 'huge.bin', randomBytes(LIMIT + 10), '', 'application/octet-stream');
    expect(res.status).toBe(413);
    expect(res.body.errors).toEqual([
      { field: 'file', rule: 'maxSize', message: `the file exceeds the limit of ${LIMIT} bytes` },
    ]);
    expect((await http(suite.url, 'GET', '/api/v1/artifacts/huge.bin')).status).toBe(404);
  });

  it('asks for the file field by name', async () => {
    const form = new FormData();
    form.append('other', new Blob([Buffer.from('x')]), 'x.py');
    const res = await fetch(`${suite.url}/api/v1/artifacts`, { method: 'POST', body: form, headers: AUTH });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0]).toMatchObject({ field: 'file', rule: 'required' });
    const notMultipart = await http(suite.url, 'POST', '/api/v1/artifacts', { file: 'x' });
    expect(notMultipart.status).toBe(400);
  });

  it('deletes an artifact', async () => {
    await upload(suite.url, 'gone.sh', Buffer.from('#!/bin/sh\necho hi\n'));
    expect((await http(suite.url, 'DELETE', '/api/v1/artifacts/gone.sh')).status).toBe(204);
    expect((await http(suite.url, 'GET', '/api/v1/artifacts/gone.sh')).status).toBe(404);
    expect((await fetch(`${suite.url}/api/v1/artifacts/gone.sh/content`, { headers: AUTH })).status).toBe(
      404,
    );
    expect((await http(suite.url, 'DELETE', '/api/v1/artifacts/gone.sh')).status).toBe(404);
  });

  it('keeps artifacts and their content across a restart', async () => {
    const content = Buffer.from('print("durable")\n');
    await upload(suite.url, 'durable.py', content);
    await suite.restart();
    const download = await fetch(`${suite.url}/api/v1/artifacts/durable.py/content`, { headers: AUTH });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
  });

  if (mode === 'Kafka') {
    it('publishes ArtifactStored on the versioned topic, keyed by stream id', async () => {
      await upload(suite.url, 'wire.py', Buffer.from('pass\n'));
      const records = await readKafkaTopic(suite.kafkaTopic(EventTopics.artifact), (r) =>
        r.some((x) => x.key === 'artifact-wire.py'),
      );
      const record = records.find((r) => r.key === 'artifact-wire.py')!;
      expect(JSON.parse(record.value)).toMatchObject({
        type: 'ArtifactStored',
        streamId: 'artifact-wire.py',
        data: { name: 'wire.py', kind: 'python', size: 5 },
      });
    });

    // The artifact store reads the id from the gateway's call (X-Correlation-Id), not from a
    // request context of its own (it keeps none: CorrelationInterceptor).
    it("records its events under the upload's and the delete's correlation ids", async () => {
      const stored = await upload(suite.url, 'traced.py', Buffer.from('pass\n'), '', 'text/x-python', {
        'x-correlation-id': 'upload-4714',
      });
      expect(stored.headers.get('x-correlation-id')).toBe('upload-4714');
      const deleted = await fetch(`${suite.url}/api/v1/artifacts/traced.py`, {
        method: 'DELETE',
        headers: { ...AUTH, 'x-correlation-id': 'delete-4715' },
      });
      expect(deleted.status).toBe(204);
      const records = await readKafkaTopic(
        suite.kafkaTopic(EventTopics.artifact),
        (r) => r.filter((x) => x.key === 'artifact-traced.py').length === 2,
      );
      const events = records
        .filter((r) => r.key === 'artifact-traced.py')
        .map((r) => JSON.parse(r.value) as { type: string; correlationId: string });
      expect(events.map((e) => [e.type, e.correlationId])).toEqual([
        ['ArtifactStored', 'upload-4714'],
        ['ArtifactDeleted', 'delete-4715'],
      ]);
    });
  }
});
