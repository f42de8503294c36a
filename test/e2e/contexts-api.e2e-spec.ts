import { EventTopics } from '@spindle/contracts';
import { readKafkaTopic } from '@spindle/testing';
import { http } from '../support/http';
import { AUTH } from '../support/auth';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

// HTTP in, response and events out. The same suite runs on the in-process bus (standalone) and
// on the real Kafka broker, both against the real Postgres.
describe.each(SPINDLE_MODES)('native API over %s', (mode, env) => {
  const suite = spindleSuite({ name: 'contexts', env });

  it('reports health of the bus and Postgres', async () => {
    const res = await http(suite.url, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info[mode === 'Kafka' ? 'kafka' : 'bus'].status).toBe('up');
    expect(res.body.info.postgres.status).toBe('up');
  });

  it('exposes Prometheus metrics, with the lag of each consumer that applied an event', async () => {
    await http(suite.url, 'POST', '/api/v1/contexts', { name: 'metered' });
    const res = await http(suite.url, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toMatch(
      /^spindle_consumer_lag_seconds_count\{consumer="projector\.contexts\.v1"\} [1-9]/m,
    );
    expect(res.text).toMatch(/^spindle_outbox_published_total\{schema="scheduler"\} [1-9]/m);
    expect(res.text).toContain('spindle_process_cpu_seconds_total');
    expect(res.text).toContain('spindle_nodejs_eventloop_lag_p99_seconds');
  });

  it('reports status: version, uptime, bus and Postgres, runtimes and counts', async () => {
    const res = await http(suite.url, 'GET', '/api/v1/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSeconds: expect.any(Number),
      bus: { kind: mode === 'Kafka' ? 'kafka' : 'in-process', up: true },
      postgres: { kind: 'postgres', up: true, detail: expect.stringMatching(/^PostgreSQL \d+/) },
      runtimes: { node: process.versions.node },
      counts: { contexts: expect.any(Number), functions: 0, artifacts: 0 },
    });
    expect(res.body.counts.contexts).toBeGreaterThanOrEqual(1);
    expect(Date.parse(res.body.startedAt)).toBeLessThanOrEqual(Date.now());
  });

  it('serves OpenAPI 3 and Swagger UI', async () => {
    const doc = await http(suite.url, 'GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/contexts', '/api/v1/contexts/{name}', '/health']),
    );
    const ui = await http(suite.url, 'GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it("always has the default context, with Mist's defaults", async () => {
    const res = await http(suite.url, 'GET', '/api/v1/contexts/default');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'default',
      downtime: '3600s',
      maxJobs: 1,
      workerMode: 'exclusive',
    });
  });

  it('reads a context back the moment it is created: no 404 window', async () => {
    for (let i = 0; i < 10; i++) {
      const name = `ryw-${i}`;
      const created = await http(suite.url, 'POST', '/api/v1/contexts', {
        name,
        maxJobs: 2,
        downtime: '10m',
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`/api/v1/contexts/${name}`);
      const read = await http(suite.url, 'GET', `/api/v1/contexts/${name}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ name, maxJobs: 2, downtime: '600s', workerMode: 'exclusive' });
    }
  });

  it('versions a context: GET answers an ETag, PUT with a stale If-Match is refused with 412 and changes nothing', async () => {
    await http(suite.url, 'POST', '/api/v1/contexts', { name: 'versioned', maxJobs: 1 });
    const read = await http(suite.url, 'GET', '/api/v1/contexts/versioned');
    const etag = read.headers.get('etag');
    expect(etag).toBe('"1"');
    const first = await http(
      suite.url,
      'PUT',
      '/api/v1/contexts/versioned',
      { maxJobs: 2 },
      { 'if-match': etag! },
    );
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    // A second client that read the same version loses the race: 412, not a silent overwrite.
    const second = await http(
      suite.url,
      'PUT',
      '/api/v1/contexts/versioned',
      { maxJobs: 3 },
      { 'if-match': etag! },
    );
    expect(second.status).toBe(412);
    expect(second.body).toMatchObject({
      status: 412,
      errors: [expect.objectContaining({ field: 'If-Match' })],
    });
    expect((await http(suite.url, 'GET', '/api/v1/contexts/versioned')).body.maxJobs).toBe(2);
    const bad = await http(
      suite.url,
      'PUT',
      '/api/v1/contexts/versioned',
      { maxJobs: 4 },
      { 'if-match': 'abc' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'If-Match' })]);
    // Without If-Match the change is based on the current version.
    const plain = await http(suite.url, 'PUT', '/api/v1/contexts/versioned', { maxJobs: 5 });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('etag')).toBe('"3"');
    // Concurrent read-modify-writes: each is applied or refused with 412, none lost silently.
    const racing = await Promise.all(
      [6, 7, 8, 9].map((maxJobs) =>
        http(suite.url, 'PUT', '/api/v1/contexts/versioned', { maxJobs }, { 'if-match': '"3"' }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = racing.find((r) => r.status === 200)!.body.maxJobs;
    expect((await http(suite.url, 'GET', '/api/v1/contexts/versioned')).body.maxJobs).toBe(winner);
  });

  it('answers a retried create with the same Idempotency-Key as the first time, with no second effect', async () => {
    const key = { 'idempotency-key': `ctx-${Date.now()}` };
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () =>
        http(suite.url, 'POST', '/api/v1/contexts', { name: 'idem', maxJobs: 2 }, key),
      ),
    );
    expect(attempts.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(attempts.map((a) => a.body.createdAt)).size).toBe(1);
    // Later change, then a late retry: the retry changes nothing.
    await http(suite.url, 'PUT', '/api/v1/contexts/idem', { maxJobs: 7 });
    const late = await http(suite.url, 'POST', '/api/v1/contexts', { name: 'idem', maxJobs: 2 }, key);
    expect(late.status).toBe(201);
    expect((await http(suite.url, 'GET', '/api/v1/contexts/idem')).body.maxJobs).toBe(7);

    const reused = await http(suite.url, 'POST', '/api/v1/contexts', { name: 'idem-other' }, key);
    expect(reused.status).toBe(400);
    expect(reused.body.errors[0]).toMatchObject({ field: 'Idempotency-Key' });
    expect((await http(suite.url, 'GET', '/api/v1/contexts/idem-other')).status).toBe(404);

    const malformed = await http(
      suite.url,
      'POST',
      '/api/v1/contexts',
      { name: 'idem-bad' },
      { 'idempotency-key': 'has space' },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]).toMatchObject({ field: 'Idempotency-Key', rule: 'isIdempotencyKey' });
  });

  it('refuses a duplicate name with 409 problem+json', async () => {
    await http(suite.url, 'POST', '/api/v1/contexts', { name: 'dup' });
    const res = await http(suite.url, 'POST', '/api/v1/contexts', { name: 'dup', maxJobs: 5 });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 409, errors: [{ field: 'name', rule: 'conflict' }] });
    expect((await http(suite.url, 'GET', '/api/v1/contexts/dup')).body.maxJobs).toBe(1);
  });

  it('names each bad field and the rule it broke, and changes nothing', async () => {
    const before = await http(suite.url, 'GET', '/api/v1/contexts?limit=500');
    const res = await http(suite.url, 'POST', '/api/v1/contexts', {
      name: '../x',
      downtime: '10 parsecs',
      maxJobs: 0,
      workerMode: 'sometimes',
      config: { nested: { no: 1 } },
      extra: true,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const fields = (res.body.errors as { field: string; rule: string }[]).map((e) => `${e.field}:${e.rule}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name:matches',
        'downtime:isDuration',
        'maxJobs:min',
        'workerMode:isIn',
        'config:isConfigMap',
        'extra:whitelistValidation',
      ]),
    );
    const after = await http(suite.url, 'GET', '/api/v1/contexts?limit=500');
    expect(after.body.items).toEqual(before.body.items);

    const badJson = await fetch(`${suite.url}/api/v1/contexts`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('content-type')).toContain('application/problem+json');

    // null is not "left out": a setting that wants a value refuses it (it once answered 500).
    const nulls = await http(suite.url, 'PUT', '/api/v1/contexts/default', { downtime: null, maxJobs: null });
    expect(nulls.status).toBe(400);
    expect((nulls.body.errors as { field: string }[]).map((e) => e.field)).toEqual(
      expect.arrayContaining(['downtime', 'maxJobs']),
    );
  });

  it('refuses durations past 2^31 - 1 ms (about 24.8 days) naming the field, and takes "Inf"', async () => {
    const res = await http(suite.url, 'POST', '/api/v1/contexts', {
      name: 'forever',
      downtime: '25d',
      streamingDuration: '9999999d',
    });
    expect(res.status).toBe(400);
    const fields = (res.body.errors as { field: string; rule: string }[]).map((e) => `${e.field}:${e.rule}`);
    expect(fields).toEqual(['downtime:durationRange', 'streamingDuration:durationRange']);
    // Longer than JavaScript counts in whole milliseconds: not a duration at all, still named.
    const absurd = await http(suite.url, 'POST', '/api/v1/contexts', {
      name: 'forever',
      streamingDuration: '999999999999d',
    });
    expect(absurd.status).toBe(400);
    expect(absurd.body.errors).toEqual([expect.objectContaining({ field: 'streamingDuration' })]);
    expect((await http(suite.url, 'GET', '/api/v1/contexts/forever')).status).toBe(404);
    const longest = await http(suite.url, 'POST', '/api/v1/contexts', {
      name: 'forever',
      downtime: 'Inf',
      streamingDuration: '2147483647ms',
    });
    expect(longest.status).toBe(201);
    expect(longest.body).toMatchObject({ downtime: 'Inf', streamingDuration: '2147483647ms' });
  });

  it.each(['-1', '0', '501', 'ten'])('refuses limit=%s naming the field', async (limit) => {
    const res = await http(suite.url, 'GET', `/api/v1/contexts?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('limit');
  });

  it('refuses a cursor it did not issue', async () => {
    const res = await http(suite.url, 'GET', '/api/v1/contexts?cursor=bogus');
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ field: 'cursor' });
  });

  it('pages through every context once with keyset cursors', async () => {
    for (let i = 0; i < 7; i++) await http(suite.url, 'POST', '/api/v1/contexts', { name: `page-${i}` });
    const all = (await http(suite.url, 'GET', '/api/v1/contexts?limit=500')).body.items.map(
      (c: { name: string }) => c.name,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { name: string }[]; nextCursor: string | null } } = await http(
        suite.url,
        'GET',
        `/api/v1/contexts?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((c) => c.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['page-0', 'page-6', 'default']));
  });

  it('updates and deletes, and protects default', async () => {
    await http(suite.url, 'POST', '/api/v1/contexts', { name: 'lifecycle', maxJobs: 1 });
    const updated = await http(suite.url, 'PUT', '/api/v1/contexts/lifecycle', {
      maxJobs: 8,
      workerMode: 'shared',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ maxJobs: 8, workerMode: 'shared', downtime: '3600s' });
    expect((await http(suite.url, 'GET', '/api/v1/contexts/lifecycle')).body.maxJobs).toBe(8);

    expect((await http(suite.url, 'DELETE', '/api/v1/contexts/lifecycle')).status).toBe(204);
    expect((await http(suite.url, 'GET', '/api/v1/contexts/lifecycle')).status).toBe(404);
    expect((await http(suite.url, 'DELETE', '/api/v1/contexts/lifecycle')).status).toBe(404);
    expect((await http(suite.url, 'PUT', '/api/v1/contexts/lifecycle', { maxJobs: 2 })).status).toBe(404);

    const protectedDefault = await http(suite.url, 'DELETE', '/api/v1/contexts/default');
    expect(protectedDefault.status).toBe(403);
    expect((await http(suite.url, 'GET', '/api/v1/contexts/default')).status).toBe(200);
  });

  it('keeps everything across a restart', async () => {
    await http(suite.url, 'POST', '/api/v1/contexts', { name: 'durable', maxJobs: 3 });
    await suite.restart();
    const res = await http(suite.url, 'GET', '/api/v1/contexts/durable');
    expect(res.status).toBe(200);
    expect(res.body.maxJobs).toBe(3);
  });

  if (mode === 'Kafka') {
    it('publishes the events on the versioned topic, keyed by stream id', async () => {
      await http(suite.url, 'POST', '/api/v1/contexts', { name: 'on-the-wire' });
      const records = await readKafkaTopic(suite.kafkaTopic(EventTopics.schedulerContext), (r) =>
        r.some((x) => x.key === 'context-on-the-wire'),
      );
      const record = records.find((r) => r.key === 'context-on-the-wire')!;
      expect(JSON.parse(record.value)).toMatchObject({
        type: 'ContextCreated',
        version: 1,
        streamId: 'context-on-the-wire',
        streamPosition: 1,
        data: { name: 'on-the-wire' },
      });
    });

    it("carries the request's correlation id (X-Correlation-Id, traceparent or a new one) into the published events", async () => {
      const own = await http(
        suite.url,
        'POST',
        '/api/v1/contexts',
        { name: 'traced' },
        { 'x-correlation-id': 'order-4711' },
      );
      expect(own.headers.get('x-correlation-id')).toBe('order-4711');
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const traced = await http(
        suite.url,
        'PUT',
        '/api/v1/contexts/traced',
        { maxJobs: 2 },
        { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      );
      expect(traced.headers.get('x-correlation-id')).toBe(traceId);
      const fresh = await http(suite.url, 'DELETE', '/api/v1/contexts/traced');
      const generated = fresh.headers.get('x-correlation-id');
      expect(generated).toMatch(/^[0-9a-f-]{36}$/);
      const records = await readKafkaTopic(suite.kafkaTopic(EventTopics.schedulerContext), (r) =>
        r.some((x) => x.key === 'context-traced' && JSON.parse(x.value).type === 'ContextDeleted'),
      );
      const events = records
        .filter((r) => r.key === 'context-traced')
        .map((r) => JSON.parse(r.value) as { type: string; correlationId: string });
      expect(events.map((e) => [e.type, e.correlationId])).toEqual([
        ['ContextCreated', 'order-4711'],
        ['ContextSettingsChanged', traceId],
        ['ContextDeleted', generated],
      ]);
    });
  }
});
