import { LogCollectorClient } from '@spindle/gateway';
import { ProblemException } from '@spindle/platform';
import { startStandalone } from '@spindle/runtime';
import type { Standalone } from '@spindle/runtime';
import { createTestDatabase } from '@spindle/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { createContext, processAlive, registerFunction, submit, upload, waitForState } from '../support/jobs';
import type { Job } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(60_000);

describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let spindle: Standalone;
  let url: string;

  async function boot(): Promise<void> {
    spindle = await startStandalone(
      {
        DATABASE_URL: db.url,
        GATEWAY_PORT: '0',
        SPINDLE_HOST: '127.0.0.1',
        SPINDLE_DATA_DIR: dataDir,
        ...env,
      },
      false,
    );
    url = spindle.url;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'spindle-jobs-'));
    await boot();
    for (const [name, content] of Object.entries(PROGRAMS)) await upload(url, name, content);
    await createContext(url, 'shared2', { workerMode: 'shared', maxJobs: 2 });
    await createContext(url, 'exclusive2', { workerMode: 'exclusive', maxJobs: 2 });
    await createContext(url, 'wide', { workerMode: 'shared', maxJobs: 30 });
    await registerFunction(url, 'sum', 'sum.js', 'node', 'sum');
    await registerFunction(url, 'pysum', 'sum.py', 'python', 'sum');
    await registerFunction(url, 'shsum', 'sum.sh', 'exec');
    await registerFunction(url, 'pid', 'tools.js', 'node', 'pid');
    await registerFunction(url, 'sleep', 'tools.js', 'node', 'sleep');
    await registerFunction(url, 'lines', 'tools.js', 'node', 'lines');
    await registerFunction(url, 'fail', 'tools.js', 'node', 'fail');
  });

  afterAll(async () => {
    await spindle?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['node', 'sum'],
    ['python', 'pysum'],
    ['exec', 'shsum'],
  ])('a %s function that sums its arguments returns the sum', async (_runtime, fn) => {
    const job = await submit(url, fn, { args: { a: 2, b: 40 } });
    expect(job).toMatchObject({ function: fn, context: 'default', args: { a: 2, b: 40 }, source: 'http' });
    expect(['queued', 'starting', 'running', 'succeeded']).toContain(job.state);
    const done = await waitForState(url, job.id);
    expect(done).toMatchObject({ state: 'succeeded', result: 42, error: null });
    expect(done.pid).toEqual(expect.any(Number));
    expect(Date.parse(done.startedAt!)).toBeLessThanOrEqual(Date.parse(done.finishedAt!));
  });

  it('runs a jvm function: a main class of a jar, arguments as JSON', async () => {
    const jar = buildJar(dataDir);
    const form = new FormData();
    form.append('file', new Blob([readFileSync(jar)]), 'sum.jar');
    expect((await fetch(`${url}/api/v1/artifacts?force=true`, { method: 'POST', body: form })).status).toBe(
      201,
    );
    await registerFunction(url, 'jvmsum', 'sum.jar', 'jvm', 'Sum');
    const done = await waitForState(url, (await submit(url, 'jvmsum', { args: { a: 40, b: 2 } })).id);
    expect(done).toMatchObject({ state: 'succeeded', result: 42 });
  });

  it('starts a precreated shared worker before any job, and stops an idle one after its downtime', async () => {
    await createContext(url, 'warm', { workerMode: 'shared', precreated: true, maxJobs: 2 });
    await waitUntil(async () => {
      const workers = await http(url, 'GET', '/api/v1/workers?context=warm&state=running');
      return workers.body.items.length === 1;
    });
    await createContext(url, 'brief', { workerMode: 'shared', maxJobs: 2, downtime: '300ms' });
    const done = await waitForState(
      url,
      (await submit(url, 'pid', { args: { ms: 0 }, context: 'brief' })).id,
    );
    await waitUntil(
      async () => (await http(url, 'GET', `/api/v1/workers/${done.workerId}`)).body.state === 'stopped',
    );
    const stopped = await http(url, 'GET', `/api/v1/workers/${done.workerId}`);
    expect(stopped.body.stopReason).toBe('idle');
  });

  it('reports a thrown error as failed, with its message', async () => {
    const done = await waitForState(url, (await submit(url, 'fail', {})).id);
    expect(done.state).toBe('failed');
    expect(done.error).toContain('it broke on purpose');
  });

  it('reads back a job at once after submitting it (no 404 window)', async () => {
    for (let i = 0; i < 5; i++) {
      const job = await submit(url, 'sum', { args: { a: i, b: 1 }, context: 'wide' });
      const read = await http(url, 'GET', `/api/v1/jobs/${job.id}`);
      expect(read.status).toBe(200);
    }
  });

  it('keeps every one of 10 000 log lines, in order, readable by lines and by bytes', async () => {
    const done = await waitForState(url, (await submit(url, 'lines', { args: { n: 10_000 } })).id);
    expect(done).toMatchObject({ state: 'succeeded', result: 10_000, logLines: 10_000 });
    const all = await http(url, 'GET', `/api/v1/jobs/${done.id}/logs?from=0&size=25000`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ from: 0, next: 10_000, totalLines: 10_000 });
    const items = all.body.items as { line: number; offset: number; text: string }[];
    expect(items).toHaveLength(10_000);
    let offset = 0;
    items.forEach((item, i) => {
      expect(item).toMatchObject({ line: i, offset, text: `line ${i + 1}` });
      offset += Buffer.byteLength(item.text) + 1;
    });
    // Paged from 0 by `next`, as a Livy or Ilum client pages: every line once, in order.
    const paged: string[] = [];
    for (let from = 0; from < 10_000;) {
      const page = await http(url, 'GET', `/api/v1/jobs/${done.id}/logs?from=${from}&size=5000`);
      expect(page.body.from).toBe(from);
      paged.push(...page.body.items.map((l: { text: string }) => l.text));
      from = page.body.next;
    }
    expect(paged).toEqual(items.map((l) => l.text));
    const tail = await http(url, 'GET', `/api/v1/jobs/${done.id}/logs`);
    expect(tail.body.items.map((l: { text: string }) => l.text)).toEqual(
      Array.from({ length: 100 }, (_, i) => `line ${9_901 + i}`),
    );
    const page = await http(url, 'GET', `/api/v1/jobs/${done.id}/logs?from=4999&size=3`);
    expect(page.body.items.map((l: { text: string }) => l.text)).toEqual([
      'line 5000',
      'line 5001',
      'line 5002',
    ]);
    const at5000 = items[4_999]!.offset;
    const bytes = await fetch(`${url}/api/v1/jobs/${done.id}/logs?offset=${at5000}&origin=start`);
    expect(bytes.headers.get('content-type')).toContain('text/plain');
    expect((await bytes.text()).startsWith('line 5000\nline 5001\n')).toBe(true);
    const end = await fetch(`${url}/api/v1/jobs/${done.id}/logs?offset=11&origin=end`);
    expect(await end.text()).toBe('line 10000\n');
    const text = await fetch(`${url}/api/v1/jobs/${done.id}/logs`, { headers: { accept: 'text/plain' } });
    const lines = (await text.text()).split('\n');
    expect(lines).toHaveLength(10_001);
    expect(lines[0]).toBe('line 1');
    expect(lines[9_999]).toBe('line 10000');
  });

  it('reads log positions up to the ends of their ranges, and refuses past them naming the field', async () => {
    const done = await waitForState(url, (await submit(url, 'lines', { args: { n: 3 } })).id);
    const logs = `/api/v1/jobs/${done.id}/logs`;
    for (const query of ['from=2147483646', 'from=2147483600&size=100', 'from=2&size=25000']) {
      const page = await http(url, 'GET', `${logs}?${query}`);
      expect({ query, status: page.status }).toEqual({ query, status: 200 });
      expect(page.body.items.length).toBeLessThanOrEqual(1);
    }
    const beyond = await fetch(`${url}${logs}?offset=${Number.MAX_SAFE_INTEGER}`);
    expect(beyond.status).toBe(200);
    expect(await beyond.text()).toBe('');
    for (const query of ['from=2147483647', 'from=-1', 'size=25001', 'size=0', 'offset=1e20', 'offset=-1']) {
      const answer = await http(url, 'GET', `${logs}?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(answer.body.errors).toEqual([expect.objectContaining({ field: query.split('=')[0] })]);
    }
  });

  it('passes a value the log-collector refuses back as the client’s 400, not an outage', async () => {
    const collector = spindle.app.get(LogCollectorClient);
    const refused = await collector.lines(randomUUID(), 2 ** 31, 1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProblemException);
    expect((refused as ProblemException).getStatus()).toBe(400);
    expect((refused as ProblemException).errors).toEqual([expect.objectContaining({ field: 'from' })]);
  });

  it('follows the log of a running job until it ends', async () => {
    const job = await submit(url, 'lines', { args: { n: 300 } });
    const followed = await (await fetch(`${url}/api/v1/jobs/${job.id}/logs?follow=true`)).text();
    const lines = followed.split('\n').filter(Boolean);
    expect(lines).toHaveLength(300);
    expect(lines[299]).toBe('line 300');
  });

  it('kills the process of a running job it cancels', async () => {
    const job = await submit(url, 'sleep', { args: { ms: 60_000 } });
    const running = await waitForState(url, job.id, ['running']);
    expect(processAlive(running.pid!)).toBe(true);
    const cancelled = await http(url, 'POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(['cancelling', 'cancelled']).toContain(cancelled.body.state);
    const done = await waitForState(url, job.id);
    expect(done.state).toBe('cancelled');
    await waitUntil(() => !processAlive(running.pid!));
    // Cancelling again, or a finished job, changes nothing.
    expect((await http(url, 'POST', `/api/v1/jobs/${job.id}/cancel`)).body.state).toBe('cancelled');
  });

  it('ends a job that outlives its performTimeout as timed_out', async () => {
    const job = await submit(url, 'sleep', { args: { ms: 60_000 }, performTimeout: '1s' });
    const done = await waitForState(url, job.id);
    expect(done.state).toBe('timed_out');
    expect(Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(900);
    if (done.pid) await waitUntil(() => !processAlive(done.pid!));
  });

  it('times out a queued job past its startTimeout without running it', async () => {
    await createContext(url, 'single', { workerMode: 'exclusive', maxJobs: 1 });
    const blocker = await submit(url, 'sleep', { args: { ms: 3_000 }, context: 'single' });
    await waitForState(url, blocker.id, ['running']);
    const late = await submit(url, 'sum', { args: { a: 1, b: 1 }, context: 'single', startTimeout: '300ms' });
    const done = await waitForState(url, late.id);
    expect(done).toMatchObject({ state: 'timed_out', startedAt: null, pid: null });
    await http(url, 'POST', `/api/v1/jobs/${blocker.id}/cancel`);
  });

  it('runs two jobs of a shared context in one worker process, of an exclusive one in two', async () => {
    const shared = await Promise.all(
      [1, 2].map(() => submit(url, 'pid', { args: { ms: 500 }, context: 'shared2' })),
    );
    const sharedDone = await Promise.all(shared.map((j) => waitForState(url, j.id)));
    expect(sharedDone.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    expect(sharedDone[0]!.result).toBe(sharedDone[1]!.result);
    expect(sharedDone[0]!.workerId).toBe(sharedDone[1]!.workerId);

    const exclusive = await Promise.all(
      [1, 2].map(() => submit(url, 'pid', { args: { ms: 500 }, context: 'exclusive2' })),
    );
    const exclusiveDone = await Promise.all(exclusive.map((j) => waitForState(url, j.id)));
    expect(exclusiveDone.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    expect(exclusiveDone[0]!.result).not.toBe(exclusiveDone[1]!.result);
    expect(exclusiveDone[0]!.workerId).not.toBe(exclusiveDone[1]!.workerId);
  });

  it('runs jobs one after the other when maxJobs is 1', async () => {
    await createContext(url, 'serial', { workerMode: 'exclusive', maxJobs: 1 });
    const jobs = await Promise.all(
      [1, 2].map(() => submit(url, 'sleep', { args: { ms: 400 }, context: 'serial' })),
    );
    const [a, b] = (await Promise.all(jobs.map((j) => waitForState(url, j.id)))).sort(
      (x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!),
    );
    expect(a!.state).toBe('succeeded');
    expect(b!.state).toBe('succeeded');
    expect(Date.parse(b!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a!.finishedAt!));
  });

  it('pages 60 jobs through limit=25 with none repeated and none missing, newest first', async () => {
    const submitted: string[] = [];
    for (let i = 0; i < 60; i++)
      submitted.push(
        (await submit(url, 'sum', { args: { a: i, b: 0 }, context: 'wide', externalId: 'paging' })).id,
      );
    // A submit answers once the job is recorded; lists read the read model, which follows.
    await waitUntil(
      async () =>
        (await http(url, 'GET', '/api/v1/jobs?externalId=paging&limit=500')).body.items.length === 60,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/jobs?externalId=paging&limit=25${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await http(url, 'GET', query);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((j: Job) => j.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // Newest first: the reverse of the order they were submitted in, one after the other.
    expect(seen).toEqual([...submitted].reverse());
  });

  it('filters the list by state, function, context and worker, and returns only matching jobs', async () => {
    await createContext(url, 'filtered', { workerMode: 'shared', maxJobs: 4 });
    const failed = await waitForState(url, (await submit(url, 'fail', { context: 'filtered' })).id);
    const summed = await waitForState(
      url,
      (await submit(url, 'sum', { args: { a: 1, b: 2 }, context: 'filtered' })).id,
    );
    expect([failed.state, summed.state]).toEqual(['failed', 'succeeded']);
    const list = async (query: string): Promise<(Job & { function: string })[]> => {
      const page = await http(url, 'GET', `/api/v1/jobs?limit=500&${query}`);
      expect({ query, status: page.status }).toEqual({ query, status: 200 });
      return page.body.items;
    };
    const byState = await list('state=failed');
    expect(byState.map((j) => j.id)).toContain(failed.id);
    expect(byState.every((j) => j.state === 'failed')).toBe(true);
    const two = await list('state=failed&state=succeeded&context=filtered');
    expect(two.map((j) => j.id).sort()).toEqual([failed.id, summed.id].sort());
    const byFunction = await list('function=fail');
    expect(byFunction.map((j) => j.id)).toContain(failed.id);
    expect(byFunction.every((j) => j.function === 'fail')).toBe(true);
    expect((await list('context=filtered')).map((j) => j.id)).toEqual([summed.id, failed.id]);
    expect((await list('context=filtered&function=sum')).map((j) => j.id)).toEqual([summed.id]);
    expect(await list('context=filtered&state=running')).toEqual([]);
    const byWorker = await list(`worker=${summed.workerId}`);
    expect(byWorker.map((j) => j.id)).toContain(summed.id);
    expect(byWorker.every((j) => j.workerId === summed.workerId)).toBe(true);
  });

  it('starts the jobs of a context in the order they were submitted (FIFO)', async () => {
    await createContext(url, 'fifo', { workerMode: 'exclusive', maxJobs: 1 });
    const submitted: string[] = [];
    for (let i = 0; i < 5; i++)
      submitted.push((await submit(url, 'sleep', { args: { ms: 200 }, context: 'fifo' })).id);
    const done = await Promise.all(submitted.map((id) => waitForState(url, id)));
    expect(done.map((j) => j.state)).toEqual(Array(5).fill('succeeded'));
    const byStart = [...done].sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
    expect(byStart.map((j) => j.id)).toEqual(submitted);
    // One at a time: each started once the one before it had finished.
    for (let i = 1; i < byStart.length; i++)
      expect(Date.parse(byStart[i]!.startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(byStart[i - 1]!.finishedAt!),
      );
  });

  it('leaves a succeeded job succeeded when it is cancelled', async () => {
    const done = await waitForState(url, (await submit(url, 'sum', { args: { a: 3, b: 4 } })).id);
    expect(done).toMatchObject({ state: 'succeeded', result: 7 });
    const cancelled = await http(url, 'POST', `/api/v1/jobs/${done.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ state: 'succeeded', result: 7, error: null });
    expect((await http(url, 'GET', `/api/v1/jobs/${done.id}`)).body).toEqual(cancelled.body);
  });

  it('takes timeouts up to 2^31 - 1 ms, and Inf for none, and reads the job back', async () => {
    const job = await submit(url, 'sum', {
      args: { a: 1, b: 1 },
      startTimeout: '24d',
      performTimeout: '2147483647ms',
    });
    const done = await waitForState(url, job.id);
    expect(done).toMatchObject({
      state: 'succeeded',
      startTimeout: '2073600000ms',
      performTimeout: '2147483647ms',
    });
    const unbounded = await submit(url, 'sum', { args: { a: 1, b: 1 }, performTimeout: 'Inf' });
    expect(unbounded).toMatchObject({ performTimeout: null, startTimeout: null });
  });

  it('gives one job for one Idempotency-Key, even when the requests race', async () => {
    const key = `job-key-${Date.now()}`;
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        http(url, 'POST', '/api/v1/functions/sum/jobs', { args: { a: 1, b: 2 } }, { 'idempotency-key': key }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const other = await http(
      url,
      'POST',
      '/api/v1/functions/sum/jobs',
      { args: { a: 9, b: 9 } },
      { 'idempotency-key': key },
    );
    expect(other.status).toBe(400);
  });

  it('refuses bad input with a 4xx naming the field, and creates nothing', async () => {
    const before = (await http(url, 'GET', '/api/v1/jobs?limit=500&function=sum')).body.items.length;
    const cases: [string, unknown, number, string, string][] = [
      ['/api/v1/functions/nope/jobs', { args: {} }, 404, 'function', 'exists'],
      ['/api/v1/functions/sum/jobs', { args: {}, context: 'nowhere' }, 400, 'context', 'exists'],
      ['/api/v1/functions/sum/jobs', { args: [1, 2] }, 400, 'args', 'isObject'],
      ['/api/v1/functions/sum/jobs', { args: 'x' }, 400, 'args', 'isObject'],
      [
        '/api/v1/functions/sum/jobs',
        { args: {}, startTimeout: '10 parsecs' },
        400,
        'startTimeout',
        'isDuration',
      ],
      [
        '/api/v1/functions/sum/jobs',
        { args: {}, performTimeout: 'soon' },
        400,
        'performTimeout',
        'isDuration',
      ],
      // Past 2^31 - 1 ms no timer or integer column holds it; 0 is no timeout at all.
      [
        '/api/v1/functions/sum/jobs',
        { args: {}, performTimeout: '25d' },
        400,
        'performTimeout',
        'durationRange',
      ],
      [
        '/api/v1/functions/sum/jobs',
        { args: {}, startTimeout: '100d' },
        400,
        'startTimeout',
        'durationRange',
      ],
      [
        '/api/v1/functions/sum/jobs',
        { args: {}, performTimeout: '0s' },
        400,
        'performTimeout',
        'durationRange',
      ],
      [
        '/api/v1/functions/sum/jobs',
        { args: {}, startTimeout: 'PT0S' },
        400,
        'startTimeout',
        'durationRange',
      ],
    ];
    for (const [path, body, status, field, rule] of cases) {
      const answer = await http(url, 'POST', path, body);
      expect({ path, body, status: answer.status }).toEqual({ path, body, status });
      expect({ path, body, errors: answer.body.errors }).toEqual({
        path,
        body,
        errors: [expect.objectContaining({ field, rule })],
      });
    }
    for (const query of [
      'limit=-1',
      'limit=0',
      'limit=501',
      'state=sleeping',
      'cursor=bogus',
      'worker=w1',
      'function=../x',
    ]) {
      const answer = await http(url, 'GET', `/api/v1/jobs?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(JSON.stringify(answer.body)).toContain(`"field":"${query.split('=')[0]}"`);
    }
    expect((await http(url, 'GET', '/api/v1/jobs/not-a-job')).status).toBe(404);
    expect((await http(url, 'GET', '/api/v1/jobs?limit=500&function=sum')).body.items.length).toBe(before);
  });

  it('streams a job’s events over SSE until it ends, and resumes with Last-Event-ID', async () => {
    const job = await submit(url, 'sum', { args: { a: 1, b: 1 } });
    const stream = await fetch(`${url}/api/v1/jobs/${job.id}/events`);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const text = await stream.text(); // ends after the job finished
    const events = parseSse(text);
    expect(events.map((e) => e.event)).toEqual(['JobSubmitted', 'JobAssigned', 'JobStarted', 'JobSucceeded']);
    expect(JSON.parse(events[3]!.data)).toMatchObject({ id: job.id, state: 'succeeded', kind: 'job' });
    const resumed = await fetch(`${url}/api/v1/jobs/${job.id}/events`, {
      headers: { 'last-event-id': events[1]!.id },
    });
    expect(parseSse(await resumed.text()).map((e) => e.event)).toEqual(['JobStarted', 'JobSucceeded']);
    // Resumed after its final event, a finished job's stream has nothing left: it ends at once
    // (the signal only turns a hang into a failure).
    const final = events[3]!.id;
    const resumes: [string, Record<string, string>][] = [
      ['', { 'last-event-id': final }],
      [`?lastEventId=${final}`, {}],
    ];
    for (const [query, headers] of resumes) {
      const after = await fetch(`${url}/api/v1/jobs/${job.id}/events${query}`, {
        headers,
        signal: AbortSignal.timeout(20_000),
      });
      expect(after.status).toBe(200);
      expect(parseSse(await after.text())).toEqual([]);
    }
  });

  it('resumes /events after the Last-Event-ID it is given, with nothing missed or repeated', async () => {
    const stream = `${url}/api/v1/events?kind=job&function=pysum`;
    const first = await openSse(stream);
    const job = await submit(url, 'pysum', { args: { a: 2, b: 3 } });
    const of = (events: SseEvent[]) => events.filter((e) => JSON.parse(e.data).id === job.id);
    // The first reader sees the job up to its assignment, then loses its connection.
    const seen = of(await first.until((e) => of(e).some((x) => x.event === 'JobAssigned')));
    first.close();
    const assigned = seen.find((e) => e.event === 'JobAssigned')!;
    const second = await openSse(stream, { 'last-event-id': assigned.id });
    const rest = await second.until((e) => of(e).some((x) => x.event === 'JobSucceeded'));
    second.close();
    expect(rest.every((e) => BigInt(e.id) > BigInt(assigned.id))).toBe(true);
    expect([...seen, ...of(rest)].map((e) => e.event)).toEqual([
      'JobSubmitted',
      'JobAssigned',
      'JobStarted',
      'JobSucceeded',
    ]);
  });

  it('streams all changes on /events, filtered by function', async () => {
    const controller = new AbortController();
    const response = await fetch(`${url}/api/v1/events?function=pysum&kind=job`, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const job = await submit(url, 'pysum', { args: { a: 1, b: 2 } });
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('JobSucceeded')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = parseSse(text);
    expect(events.every((e) => JSON.parse(e.data).function === 'pysum')).toBe(true);
    expect(events.some((e) => JSON.parse(e.data).id === job.id && e.event === 'JobSucceeded')).toBe(true);
  });

  it('lists workers with their host, jobs and heartbeat, and stops one gracefully', async () => {
    const job = await waitForState(
      url,
      (await submit(url, 'pid', { args: { ms: 0 }, context: 'shared2' })).id,
    );
    const worker = await http(url, 'GET', `/api/v1/workers/${job.workerId}`);
    expect(worker.status).toBe(200);
    expect(worker.body).toMatchObject({
      id: job.workerId,
      context: 'shared2',
      mode: 'shared',
      state: 'running',
      // The worker's runner process, which ran the job (the `pid` function returns its own pid),
      // not the agent's (this test process).
      pid: job.result,
    });
    expect(job.result).not.toBe(process.pid);
    expect(worker.body.lastHeartbeat).toEqual(expect.any(String));
    const list = await http(url, 'GET', '/api/v1/workers?context=shared2&state=running');
    expect(list.body.items.map((w: { id: string }) => w.id)).toContain(job.workerId);
    expect(list.body.items.find((w: { id: string }) => w.id === job.workerId)?.pid).toBe(job.result);
    const jobsOfWorker = await http(url, 'GET', `/api/v1/workers/${job.workerId}/jobs`);
    expect(jobsOfWorker.body.items.map((j: Job) => j.id)).toContain(job.id);
    const stopped = await http(url, 'DELETE', `/api/v1/workers/${job.workerId}`);
    expect(stopped.status).toBe(202);
    await waitUntil(
      async () => (await http(url, 'GET', `/api/v1/workers/${job.workerId}`)).body.state === 'stopped',
    );
  });

  it('pages the jobs of a worker with a cursor, newest first', async () => {
    await createContext(url, 'pager', { workerMode: 'shared', maxJobs: 2 });
    const submitted: Job[] = [];
    for (let i = 0; i < 7; i++)
      submitted.push(
        await waitForState(url, (await submit(url, 'sum', { args: { a: i, b: 0 }, context: 'pager' })).id),
      );
    const workerId = submitted[0]!.workerId!;
    expect(submitted.every((j) => j.workerId === workerId)).toBe(true); // one shared worker, reused
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/api/v1/workers/${workerId}/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await http(url, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((j: Job) => j.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(submitted.map((j) => j.id).reverse());
  });

  it('stops a worker gracefully: it takes no new job, lets its running one finish, then stops', async () => {
    await createContext(url, 'graceful', { workerMode: 'shared', maxJobs: 2 });
    const job = await submit(url, 'sleep', { args: { ms: 4_000 }, context: 'graceful' });
    const running = await waitForState(url, job.id, ['running']);
    const stopping = await http(url, 'DELETE', `/api/v1/workers/${running.workerId}`);
    expect(stopping.status).toBe(202);
    expect(stopping.body).toMatchObject({ id: running.workerId, state: 'stopping' });
    const next = await submit(url, 'pid', { args: { ms: 0 }, context: 'graceful' });
    const done = await waitForState(url, job.id);
    expect(done).toMatchObject({ state: 'succeeded', result: 'woke', workerId: running.workerId });
    await waitUntil(
      async () => (await http(url, 'GET', `/api/v1/workers/${running.workerId}`)).body.state === 'stopped',
    );
    const nextDone = await waitForState(url, next.id);
    expect(nextDone.state).toBe('succeeded');
    expect(nextDone.workerId).not.toBe(running.workerId);
  });

  it('cancels what still runs on a stopping worker once its timeout is over', async () => {
    await createContext(url, 'impatient', { workerMode: 'shared', maxJobs: 2 });
    const job = await submit(url, 'sleep', { args: { ms: 60_000 }, context: 'impatient' });
    const running = await waitForState(url, job.id, ['running']);
    for (const bad of ['soon', '-1s', '25d'])
      expect(
        (await http(url, 'DELETE', `/api/v1/workers/${running.workerId}?timeout=${bad}`)).body,
      ).toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'timeout' })] });
    const stopping = await http(url, 'DELETE', `/api/v1/workers/${running.workerId}?timeout=500ms`);
    expect(stopping.status).toBe(202);
    const done = await waitForState(url, job.id);
    expect(done.state).toBe('cancelled');
    expect(done.error).toContain('its worker stopped');
    await waitUntil(
      async () => (await http(url, 'GET', `/api/v1/workers/${running.workerId}`)).body.state === 'stopped',
    );
    await waitUntil(() => !processAlive(running.pid!));
  });

  it('keeps logs readable after a restart', async () => {
    const done = await waitForState(url, (await submit(url, 'lines', { args: { n: 50 } })).id);
    const text = async () =>
      (await fetch(`${url}/api/v1/jobs/${done.id}/logs`, { headers: { accept: 'text/plain' } })).text();
    const before = await text();
    expect(before.split('\n')).toHaveLength(51);
    await spindle.stop();
    await boot();
    const page = await http(url, 'GET', `/api/v1/jobs/${done.id}/logs?from=0&size=100`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ totalLines: 50, complete: true });
    expect(page.body.items.map((l: { text: string }) => l.text)).toEqual(
      Array.from({ length: 50 }, (_, i) => `line ${i + 1}`),
    );
    expect(await text()).toBe(before);
  });
});

// A jar whose main class prints the sum of the JSON arguments it is given.
function buildJar(dir: string): string {
  const src = join(dir, 'jvm-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(
    join(src, 'Sum.java'),
    `public class Sum {
  public static void main(String[] args) {
    String json = args[0];
    long a = Long.parseLong(json.replaceAll(".*\\"a\\":\\\\s*(-?\\\\d+).*", "$1"));
    long b = Long.parseLong(json.replaceAll(".*\\"b\\":\\\\s*(-?\\\\d+).*", "$1"));
    System.out.println("adding " + a + " and " + b);
    System.out.println(a + b);
  }
}
`,
  );
  execFileSync('javac', ['-d', src, join(src, 'Sum.java')]);
  const jar = join(dir, 'sum.jar');
  execFileSync('jar', ['cf', jar, '-C', src, 'Sum.class']);
  return jar;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface SseEvent {
  id: string;
  event: string;
  data: string;
}

// An endless SSE stream, read until what came satisfies a condition.
async function openSse(
  streamUrl: string,
  headers: Record<string, string> = {},
): Promise<{ until: (enough: (events: SseEvent[]) => boolean) => Promise<SseEvent[]>; close: () => void }> {
  const controller = new AbortController();
  const response = await fetch(streamUrl, { headers, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    until: async (enough) => {
      while (!enough(parseSse(text))) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      return parseSse(text);
    },
    close: () => controller.abort(),
  };
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => l && !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
      );
      return fields as unknown as SseEvent;
    })
    .filter((e) => e.event);
}
