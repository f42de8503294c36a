import { Kafka, logLevel } from 'kafkajs';
import WebSocket from 'ws';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { TEST_KAFKA_BROKERS, eventually, readKafkaTopic, uniqueName } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(60_000);

// A client that behaves like a Hydrosphere Mist client: HTTP API v2 only, on Mist's own port.
describe.each(SPINDLE_MODES)('Mist HTTP API v2 over %s', (_mode, env) => {
  const requests = uniqueName('mist-requests');
  const events = uniqueName('mist-events');
  const onKafka = env['KAFKA_BROKERS'] !== undefined;
  const suite = spindleSuite({
    name: 'mist',
    env: { MIST_ASYNC_SUBSCRIBE_TOPIC: requests, MIST_ASYNC_PUBLISH_TOPIC: events, ...env },
  });

  // What a Mist client does to start a job asynchronously: put a request on the topic.
  async function sendStartRequest(request: object): Promise<void> {
    if (onKafka) {
      const kafka = new Kafka({
        clientId: 'mist-client',
        brokers: TEST_KAFKA_BROKERS,
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      await producer.send({ topic: requests, messages: [{ key: '', value: JSON.stringify(request) }] });
      await producer.disconnect();
    } else {
      await suite.spindle.app
        .get<MessageBus>(MESSAGE_BUS)
        .publish([{ topic: requests, messages: [{ key: '', value: JSON.stringify(request) }] }]);
    }
  }

  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(suite.mistUrl, method, `/v2/api${path}`, body, headers);

  async function uploadFile(name: string, content: string, force = false) {
    const form = new FormData();
    form.append('file', new Blob([content]), name);
    const response = await fetch(`${suite.mistUrl}/v2/api/artifacts${force ? '?force=true' : ''}`, {
      method: 'POST',
      body: form,
    });
    return {
      status: response.status,
      text: await response.text(),
      type: response.headers.get('content-type'),
    };
  }

  async function finished(id: string, timeoutMs = 30_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await api('GET', `/jobs/${id}`)).body;
      if (['finished', 'failed', 'cancelled'].includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('uploads artifacts as Mist does: the name back as text, 409 on a taken name unless force', async () => {
    const first = await uploadFile('tools.js', PROGRAMS['tools.js']);
    expect(first).toMatchObject({ status: 200, text: 'tools.js' });
    expect(first.type).toContain('text/plain');
    const again = await uploadFile('tools.js', PROGRAMS['tools.js']);
    expect(again.status).toBe(409);
    expect(again.text).toBe('Filename must be unique: found tools.js in repository');
    expect((await uploadFile('tools.js', PROGRAMS['tools.js'], true)).status).toBe(200);
    expect((await uploadFile('sum.py', PROGRAMS['sum.py'])).status).toBe(200);
    expect((await api('GET', '/artifacts')).body).toEqual(expect.arrayContaining(['tools.js', 'sum.py']));
    const sha = await api('GET', '/artifacts/sum.py/sha');
    expect(sha.text).toMatch(/^[0-9a-f]{40}$/);
    expect((await api('GET', '/artifacts/sum.py')).text).toBe(PROGRAMS['sum.py']);
    const missing = await api('GET', '/artifacts/nope.py');
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('No file found by name nope.py');
  });

  it('creates functions from {name, path, className, defaultContext}, refusing a taken name unless force', async () => {
    const created = await api('POST', '/functions', {
      name: 'pysum',
      path: 'sum.py',
      className: 'sum',
      defaultContext: 'default',
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      name: 'pysum',
      lang: 'python',
      execute: {},
      tags: [],
      path: 'sum.py',
      className: 'sum',
      defaultContext: 'default',
    });
    for (const [name, className] of [
      ['sleep', 'sleep'],
      ['lines', 'lines'],
      ['fail', 'fail'],
    ]) {
      const fn = { name, path: 'tools.js', className, defaultContext: 'default' };
      expect((await api('POST', '/functions', fn)).status).toBe(200);
    }
    const taken = await api('POST', '/functions', {
      name: 'pysum',
      path: 'sum.py',
      className: 'sum',
      defaultContext: 'default',
    });
    expect(taken.status).toBe(400);
    expect(taken.headers.get('content-type')).toContain('text/plain');
    expect(taken.text).toContain('Endpoint pysum already exists');
    const forced = await api('POST', '/functions?force=true', {
      name: 'pysum',
      path: 'sum.py',
      className: 'sum',
      defaultContext: 'default',
    });
    expect(forced.status).toBe(200);
    expect((await api('GET', '/functions')).body.map((f: { name: string }) => f.name)).toEqual(
      expect.arrayContaining(['pysum', 'sleep', 'lines']),
    );
    expect((await api('GET', '/functions/nope')).status).toBe(404);
    expect(
      (
        await api('POST', '/functions', {
          name: 'x',
          path: 'missing.py',
          className: 'f',
          defaultContext: 'default',
        })
      ).status,
    ).toBe(400);
  });

  it('starts a job async, then polls it to finished with Mist’s JobDetails', async () => {
    const started = await api('POST', '/functions/pysum/jobs?externalId=ext-1', { a: 2, b: 3 });
    expect(started.status).toBe(200);
    expect(Object.keys(started.body)).toEqual(['id']);
    const job = await finished(started.body.id);
    expect(job).toMatchObject({
      function: 'pysum',
      jobId: started.body.id,
      params: { filePath: 'sum.py', className: 'sum', arguments: { a: 2, b: 3 }, action: 'execute' },
      context: 'default',
      externalId: 'ext-1',
      source: 'Http',
      jobResult: 5,
      status: 'finished',
    });
    expect(Object.keys(job)).toEqual([
      'function',
      'jobId',
      'params',
      'context',
      'externalId',
      'source',
      'startTime',
      'endTime',
      'jobResult',
      'status',
      'workerId',
      'createTime',
    ]);
    expect(typeof job['createTime']).toBe('number');
    expect(job['startTime']).toBeGreaterThanOrEqual(job['createTime']);
    const log = await api('GET', `/jobs/${started.body.id}/logs`);
    expect(log.text).toMatch(/^INFO \d{4}-\d\d-\d\dT[\d:.]+ \[stdout\] adding 2 3\n$/);
  });

  it('answers force=true with {success, payload, errors}', async () => {
    expect((await api('POST', '/functions/pysum/jobs?force=true', { a: 1, b: 2 })).body).toEqual({
      success: true,
      payload: 3,
      errors: [],
    });
    const failed = await api('POST', '/functions/fail/jobs?force=true', {});
    expect(failed.body).toMatchObject({ success: false, payload: {} });
    expect(failed.body.errors[0]).toContain('it broke on purpose');
    const job = (await api('GET', '/jobs?status=failed&limit=1')).body[0];
    expect(typeof job.jobResult).toBe('string');
  });

  it('lists jobs with limit, offset, repeated status and paginate, with the real total', async () => {
    for (let i = 0; i < 3; i++)
      await finished((await api('POST', '/functions/pysum/jobs', { a: i, b: 0 })).body.id);
    const all = await api('GET', '/jobs?status=finished&status=failed&paginate=true&limit=2');
    expect(all.body.jobs).toHaveLength(2);
    const finishedCount = (await api('GET', '/functions/pysum/jobs?status=finished&limit=100')).body.length;
    const failedCount = (await api('GET', '/jobs?status=failed&limit=100')).body.length;
    expect(all.body.total).toBe(finishedCount + failedCount);
    const page2 = await api('GET', '/jobs?limit=2&offset=2');
    const firstFour = await api('GET', '/jobs?limit=4');
    expect(page2.body.map((j: { jobId: string }) => j.jobId)).toEqual(
      firstFour.body.slice(2).map((j: { jobId: string }) => j.jobId),
    );
    const bad = await api('GET', '/jobs?status=sleeping');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Unknown statuses: sleeping');
    const tooMany = await api('GET', '/jobs?limit=501');
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toContain('limit must be at most 500');
    const tooDeep = await api('GET', '/jobs?offset=100001');
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.text).toContain('offset must be at most 100000');
  });

  it('cancels a running job with DELETE, and answers 404 for an unknown one', async () => {
    const { id } = (await api('POST', '/functions/sleep/jobs', { ms: 60_000 })).body;
    for (let i = 0; i < 200 && (await api('GET', `/jobs/${id}`)).body.status !== 'started'; i++)
      await new Promise((r) => setTimeout(r, 50));
    const cancelled = await api('DELETE', `/jobs/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ jobId: id, status: 'cancelled' });
    expect(cancelled.body.jobResult).toBeUndefined();
    expect((await api('DELETE', `/jobs/${id}`)).body.status).toBe('cancelled');
    const unknown = await api('DELETE', '/jobs/0193a5b2-7c1e-7f00-8000-1234567890ab');
    expect(unknown.status).toBe(404);
  });

  it('ends both timeouts in cancelled, as Mist does', async () => {
    const perform = (await api('POST', '/functions/sleep/jobs?performTimeout=1s', { ms: 60_000 })).body.id;
    expect((await finished(perform)).status).toBe('cancelled');
    await api('POST', '/contexts', { name: 'one-at-a-time', maxJobs: 1, workerMode: 'exclusive' });
    const blocker = (await api('POST', '/functions/sleep/jobs?context=one-at-a-time', { ms: 2_000 })).body.id;
    const late = (
      await api('POST', '/functions/sleep/jobs?context=one-at-a-time&startTimeout=200ms', { ms: 1 })
    ).body.id;
    expect(await finished(late)).toMatchObject({ status: 'cancelled' });
    expect((await finished(late)).startTime).toBeUndefined();
    await finished(blocker);
    expect((await api('POST', '/functions/sleep/jobs?startTimeout=10parsecs', { ms: 1 })).status).toBe(400);
  });

  it('caps a shared context at maxJobs parallel jobs: a job behind a running one waits, and its startTimeout counts', async () => {
    await api('POST', '/contexts', { name: 'shared-one', maxJobs: 1, workerMode: 'shared' });
    const blocker = (await api('POST', '/functions/sleep/jobs?context=shared-one', { ms: 3_000 })).body.id;
    while ((await api('GET', `/jobs/${blocker}`)).body.status !== 'started')
      await new Promise((r) => setTimeout(r, 50));
    const late = (await api('POST', '/functions/sleep/jobs?context=shared-one&startTimeout=500ms', { ms: 1 }))
      .body.id;
    const next = (await api('POST', '/functions/sleep/jobs?context=shared-one', { ms: 1 })).body.id;
    expect(await finished(late)).toMatchObject({ status: 'cancelled' });
    expect((await finished(late)).startTime).toBeUndefined();
    const [first, second] = [await finished(blocker), await finished(next)];
    expect(first.status).toBe('finished');
    expect(second.status).toBe('finished');
    expect(second.startTime).toBeGreaterThanOrEqual(first.endTime);
  });

  it('walks the context rules: default protected, POST overwrites, unknown names fall back to default', async () => {
    const contexts = (await api('GET', '/contexts')).body;
    expect(contexts.find((c: { name: string }) => c.name === 'default')).toEqual({
      name: 'default',
      sparkConf: {},
      downtime: '3600s',
      maxJobs: 1,
      precreated: false,
      runOptions: '',
      workerMode: 'exclusive',
      streamingDuration: '1s',
      maxConnFailures: 5,
    });
    const forbidden = await api('POST', '/contexts', { name: 'default', maxJobs: 5 });
    expect(forbidden.status).toBe(400);
    expect(forbidden.text).toBe('Can not create context with name:"default"');
    const unchangeable = await api('PUT', '/contexts/default', { name: 'default', maxJobs: 5 });
    expect(unchangeable.status).toBe(400);
    expect(unchangeable.text).toBe('Can not create context with name:"default"');
    expect((await api('DELETE', '/contexts/default')).status).toBe(404);
    const created = await api('POST', '/contexts', { name: 'etl', maxJobs: 3, downtime: '60s' });
    expect(created.body).toMatchObject({ name: 'etl', maxJobs: 3, downtime: '60s', workerMode: 'exclusive' });
    const overwritten = await api('POST', '/contexts', { name: 'etl', workerMode: 'shared' });
    expect(overwritten.body).toMatchObject({
      name: 'etl',
      maxJobs: 1,
      workerMode: 'shared',
      downtime: '3600s',
    });
    expect((await api('POST', '/contexts', { name: 'x', downtime: '1h' })).status).toBe(400);
    const job = await finished(
      (await api('POST', '/functions/pysum/jobs?context=adhoc', { a: 1, b: 1 })).body.id,
    );
    expect(job).toMatchObject({ context: 'adhoc', status: 'finished', jobResult: 2 });
    expect((await api('GET', '/contexts/adhoc')).body).toMatchObject({ maxJobs: 1, workerMode: 'exclusive' });
    const removed = await api('DELETE', '/contexts/etl');
    expect(removed.body).toMatchObject({ name: 'etl' });
    expect((await api('GET', '/contexts/etl')).status).toBe(404);
  });

  it('lists workers as WorkerLink and stops one', async () => {
    await api('POST', '/contexts', { name: 'pool', workerMode: 'shared', maxJobs: 2 });
    const job = await finished(
      (await api('POST', '/functions/pysum/jobs?context=pool', { a: 1, b: 1 })).body.id,
    );
    const workers = (await api('GET', '/workers')).body;
    const link = workers.find((w: { name: string }) => w.name === job.workerId);
    expect(link).toMatchObject({ name: job.workerId, initInfo: { maxJobs: 2 } });
    expect(
      (await api('GET', `/workers/${job.workerId}/jobs`)).body.map((j: { jobId: string }) => j.jobId),
    ).toContain(job.jobId);
    expect((await api('DELETE', `/workers/${job.workerId}`)).status).toBe(200);
    expect((await api('GET', '/workers/0193a5b2-7c1e-7f00-8000-1234567890ab')).status).toBe(404);
  });

  it('serves logs in Mist’s line format with Range: bytes=N-', async () => {
    const job = await finished((await api('POST', '/functions/lines/jobs', { n: 3 })).body.id);
    const whole = await api('GET', `/jobs/${job.jobId}/logs`);
    const lines = whole.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/ \[stdout\] line 3$/);
    const from = Buffer.byteLength(`${lines[0]}\n`);
    const ranged = await api('GET', `/jobs/${job.jobId}/logs`, undefined, { range: `bytes=${from}-` });
    expect(ranged.status).toBe(206);
    expect(ranged.text).toBe(`${lines[1]}\n${lines[2]}\n`);
    expect((await api('GET', '/jobs/0193a5b2-7c1e-7f00-8000-1234567890ab/logs')).status).toBe(404);
  });

  it('reports status with Mist’s fields, filled with Spindle’s truths', async () => {
    const status = (await api('GET', '/status')).body;
    expect(status).toMatchObject({ mistVersion: expect.any(String), started: expect.any(String) });
    expect(status.javaVersion).toHaveProperty('runtimeVersion');
    const compat = await http(suite.url, 'GET', '/compat/mist/v2/api/status');
    expect(compat.status).toBe(200);
    expect((await http(suite.url, 'GET', '/compat/mist/openapi.json')).body.info.title).toContain('Mist');
    const unknown = await api('GET', '/no-such-route');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('The requested resource could not be found.');
  });

  it('follows a job over the WebSocket until its finished event', async () => {
    const { id } = (await api('POST', '/functions/lines/jobs', { n: 2 })).body;
    const ws = new WebSocket(`${suite.mistUrl.replace('http', 'ws')}/v2/api/ws/jobs/${id}?withLogs=true`);
    const received: { event: string; [k: string]: unknown }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no finished event: ${JSON.stringify(received)}`)),
        20_000,
      );
      ws.on('message', (data) => {
        received.push(JSON.parse((data as Buffer).toString()));
        const seen = received.map((e) => e.event);
        if (seen.includes('finished') && seen.includes('logs')) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', reject);
    });
    ws.close();
    const names = received.map((e) => e.event).filter((e) => e !== 'logs' && e !== 'keep-alive');
    expect(names).toEqual([
      'initialized',
      'queued',
      'worker-assigned',
      'job-file-downloading',
      'started',
      'finished',
    ]);
    expect(received.find((e) => e.event === 'finished')).toMatchObject({
      id,
      result: 2,
      time: expect.any(Number),
    });
    const logs = received
      .filter((e) => e.event === 'logs')
      .flatMap((e) => e['events'] as { message: string }[]);
    expect(logs.map((l) => l.message)).toEqual(['line 1', 'line 2']);
  });

  it('starts jobs from the async interface and publishes every job event', async () => {
    await sendStartRequest({
      functionId: 'pysum',
      parameters: { a: 4, b: 5 },
      externalId: 'from-kafka',
      runSettings: { contextId: 'async-ctx' },
    });
    await sendStartRequest({ functionId: 'no-such-function', parameters: {} }); // dropped, like Mist
    await sendStartRequest({ functionId: 'pysum', parameters: 'not an object' }); // dropped too
    if (onKafka) {
      // Mist's own server reads with a fresh consumer group at every start and loses what was
      // sent while it was down; Spindle's group is durable.
      await suite.stop();
      await sendStartRequest({
        functionId: 'pysum',
        parameters: { a: 1, b: 1 },
        externalId: 'sent-while-down',
      });
      await suite.start();
    }
    const job = await eventually(
      async () => {
        const [found] = (await api('GET', '/jobs?limit=500')).body.filter(
          (j: { externalId?: string; status: string }) =>
            j.externalId === 'from-kafka' && j.status === 'finished',
        );
        return found as Record<string, unknown> | undefined;
      },
      30_000,
      'the job started from the async interface',
    );
    expect(job).toMatchObject({
      function: 'pysum',
      context: 'async-ctx',
      jobResult: 9,
      source: 'Async Kafka',
    });
    if (onKafka) {
      const earlier = await eventually(
        async () =>
          (await api('GET', '/jobs?limit=500')).body.find(
            (j: { externalId?: string; status: string }) =>
              j.externalId === 'sent-while-down' && j.status === 'finished',
          ) as Record<string, unknown> | undefined,
        30_000,
        'the job requested while Spindle was down',
      );
      expect(earlier).toMatchObject({ function: 'pysum', jobResult: 2 });
      // Each request starts exactly one job, also across the restart.
      const fromKafka = (await api('GET', '/jobs?limit=500')).body.filter((j: { externalId?: string }) =>
        ['from-kafka', 'sent-while-down'].includes(j.externalId ?? ''),
      );
      expect(fromKafka).toHaveLength(2);
      const ofJob = (records: { value: string }[]) =>
        records.map((r) => JSON.parse(r.value)).filter((e: { id: string }) => e.id === job['jobId']);
      const published = await readKafkaTopic(events, (records) => {
        const seen = ofJob(records).map((e: { event: string }) => e.event);
        return seen.includes('finished') && seen.includes('logs');
      });
      const forJob = ofJob(published);
      expect(forJob.map((e: { event: string }) => e.event)).toEqual(
        expect.arrayContaining(['initialized', 'queued', 'started', 'finished', 'logs']),
      );
      // Mist publishes the job's log lines too, fileOffset saying where its log file then ends
      // (delivery is at least once: a redelivered batch repeats the same event).
      const file = await api('GET', `/jobs/${String(job['jobId'])}/logs`);
      const logs = forJob.filter((e: { event: string }) => e.event === 'logs');
      for (const event of logs)
        expect(event).toEqual({
          event: 'logs',
          id: job['jobId'],
          events: [{ from: 'stdout', message: 'adding 4 5', timeStamp: expect.any(Number), level: 2 }],
          fileOffset: Buffer.byteLength(file.text),
        });
    }
  });
});
