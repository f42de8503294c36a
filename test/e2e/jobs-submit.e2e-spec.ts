import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildJar } from '../fixtures/sum-jar';
import { http } from '../support/http';
import { registerFunction, submit, waitForState } from '../support/jobs';
import { jobsSuite } from '../support/jobs-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { FunctionsQuery, JobsQuery } from '@spindle/read-models';
import { AUTH } from '../support/auth';

jest.setTimeout(60_000);

// Submitting jobs: each runtime runs and answers, a failure is reported, a job reads back at once,
// one Idempotency-Key gives one job, and bad input is refused naming the field.
describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  const suite = jobsSuite(env);

  it.each([
    ['node', 'sum'],
    ['python', 'pysum'],
    ['exec', 'shsum'],
  ])('a %s function that sums its arguments returns the sum', async (_runtime, fn) => {
    const job = await submit(suite.url, fn, { args: { a: 2, b: 40 } });
    expect(job).toMatchObject({ function: fn, context: 'default', args: { a: 2, b: 40 }, source: 'http' });
    expect(['queued', 'starting', 'running', 'succeeded']).toContain(job.state);
    const done = await waitForState(suite.url, job.id);
    expect(done).toMatchObject({ state: 'succeeded', result: 42, error: null });
    expect(done.pid).toEqual(expect.any(Number));
    expect(Date.parse(done.startedAt!)).toBeLessThanOrEqual(Date.parse(done.finishedAt!));
  });

  it('runs a jvm function: a main class of a jar, arguments as JSON', async () => {
    const jar = buildJar(suite.dataDir);
    const form = new FormData();
    form.append('file', new Blob([readFileSync(jar)]), 'sum.jar');
    expect(
      (await fetch(`${suite.url}/api/v1/artifacts?force=true`, { method: 'POST', body: form, headers: AUTH }))
        .status,
    ).toBe(201);
    await registerFunction(suite.url, 'jvmsum', 'sum.jar', 'jvm', 'Sum');
    const done = await waitForState(
      suite.url,
      (await submit(suite.url, 'jvmsum', { args: { a: 40, b: 2 } })).id,
    );
    expect(done).toMatchObject({ state: 'succeeded', result: 42 });
  });

  it('reports a thrown error as failed, with its message', async () => {
    const done = await waitForState(suite.url, (await submit(suite.url, 'fail', {})).id);
    expect(done.state).toBe('failed');
    expect(done.error).toContain('it broke on purpose');
  });

  it('reads back a job at once after submitting it (no 404 window)', async () => {
    for (let i = 0; i < 5; i++) {
      const job = await submit(suite.url, 'sum', { args: { a: i, b: 1 }, context: 'wide' });
      const read = await http(suite.url, 'GET', `/api/v1/jobs/${job.id}`);
      expect(read.status).toBe(200);
    }
  });

  // Reads of single jobs in flight together share one statement (JobsQuery.findById: every GET of
  // a job, and every read waiting for one just submitted): each must still get its own job.
  it('reads jobs asked together in one statement, each answered with its own', async () => {
    const jobs = await Promise.all([1, 2, 3].map((a) => submit(suite.url, 'sum', { args: { a, b: 1 } })));
    for (const job of jobs) expect((await http(suite.url, 'GET', `/api/v1/jobs/${job.id}`)).status).toBe(200);
    const unknown = randomUUID(); // a v4: no job, and no wait for one just submitted
    const asked = Array.from({ length: 32 }, (_, i) =>
      i % 4 === 3 ? unknown : i === 4 ? jobs[0]!.id.toUpperCase() : jobs[i % 4]!.id,
    );
    const expected = asked.map((id) => (id === unknown ? null : id.toLowerCase()));
    // Asked in one turn, the first goes alone and the rest share the next statement; an id that
    // is no UUID is answered without one (it would fail the statement the others share).
    const statements = async () => {
      const res = await http(suite.url, 'GET', '/metrics');
      return Number(/^spindle_db_statements_total\{connection="read-models"\} (\d+)/m.exec(res.text)![1]);
    };
    const query = suite.spindle.app.get(JobsQuery);
    const before = await statements();
    const [found, notAnId] = await Promise.all([
      Promise.all(asked.map((id) => query.findById(id))),
      query.findById('not-a-job-id'),
    ]);
    // Two, with room for a background read of the same connection; each read alone was 32.
    expect((await statements()) - before).toBeLessThanOrEqual(4);
    expect(found.map((job) => job?.id ?? null)).toEqual(expected);
    expect(notAnId).toBeNull();
    // The same over HTTP, many reads at once.
    const answers = await Promise.all(
      asked.map((id) => http(suite.url, 'GET', `/api/v1/jobs/${id.toLowerCase()}`)),
    );
    expect(answers.map((a) => (a.status === 200 ? a.body.id : a.status))).toEqual(
      expected.map((id) => id ?? 404),
    );
  });

  // Submits that arrive together share one look-up of their functions (FunctionsQuery's batch):
  // each must still get its own function, context and refusal.
  it('answers each of many concurrent submits with its own function, context or refusal', async () => {
    const asks = Array.from({ length: 24 }, (_, i) => {
      const kind = i % 4;
      if (kind === 0) return { fn: 'sum', body: { args: { a: i, b: 1 } }, status: 202, context: 'default' };
      if (kind === 1)
        return { fn: 'pysum', body: { args: { a: i, b: 1 }, context: 'wide' }, status: 202, context: 'wide' };
      if (kind === 2) return { fn: `nope-${i}`, body: { args: {} }, status: 404, context: null };
      return { fn: 'sum', body: { args: {}, context: `nowhere-${i}` }, status: 400, context: null };
    });
    const answers = await Promise.all(
      asks.map((ask) => http(suite.url, 'POST', `/api/v1/functions/${ask.fn}/jobs`, ask.body)),
    );
    answers.forEach((answer, i) => {
      const ask = asks[i]!;
      expect({ i, status: answer.status }).toEqual({ i, status: ask.status });
      if (ask.status === 202) expect(answer.body).toMatchObject({ function: ask.fn, context: ask.context });
      else expect(JSON.stringify(answer.body)).toContain(ask.status === 404 ? 'function' : 'context');
    });
  });

  it('looks up the functions of submits asked together in one batch, each answered with its own', async () => {
    // Asked in one turn, the first goes alone and the rest share the next query.
    const functions = suite.spindle.app.get(FunctionsQuery);
    const asks: [string, string | undefined][] = [
      ['sum', undefined],
      ['pysum', 'wide'],
      ['nope', undefined],
      ['sum', 'nowhere'],
      ['shsum', 'exclusive2'],
      ['fail', undefined],
    ];
    const targets = await Promise.all(asks.map(([fn, context]) => functions.findSubmitTarget(fn, context)));
    expect(targets.map((t) => t && [t.function, t.context, t.contextExists, t.artifact])).toEqual([
      ['sum', 'default', true, 'sum.js'],
      ['pysum', 'wide', true, 'sum.py'],
      null,
      ['sum', 'nowhere', false, 'sum.js'],
      ['shsum', 'exclusive2', true, 'sum.sh'],
      ['fail', 'default', true, 'tools.js'],
    ]);
  });

  it('gives one job for one Idempotency-Key, even when the requests race', async () => {
    const key = `job-key-${Date.now()}`;
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        http(
          suite.url,
          'POST',
          '/api/v1/functions/sum/jobs',
          { args: { a: 1, b: 2 } },
          { 'idempotency-key': key },
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const other = await http(
      suite.url,
      'POST',
      '/api/v1/functions/sum/jobs',
      { args: { a: 9, b: 9 } },
      { 'idempotency-key': key },
    );
    expect(other.status).toBe(400);
  });

  it('refuses bad input with a 4xx naming the field, and creates nothing', async () => {
    const before = (await http(suite.url, 'GET', '/api/v1/jobs?limit=500&function=sum')).body.items.length;
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
      const answer = await http(suite.url, 'POST', path, body);
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
      const answer = await http(suite.url, 'GET', `/api/v1/jobs?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(JSON.stringify(answer.body)).toContain(`"field":"${query.split('=')[0]}"`);
    }
    expect((await http(suite.url, 'GET', '/api/v1/jobs/not-a-job')).status).toBe(404);
    expect((await http(suite.url, 'GET', '/api/v1/jobs?limit=500&function=sum')).body.items.length).toBe(
      before,
    );
  });
});
