import type { JobView } from '@spindle/read-models';
import { DialectError } from '../json-errors.filter';
import {
  groupCodeFunction,
  groupJobArgs,
  groupJobFunction,
  groupJobInstanceOf,
  groupProgramOf,
  parseGroupJobRequest,
} from './ilum-group-job-format';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof DialectError) return `${e.status} ${e.message}`;
    throw e;
  }
  throw new Error('not refused');
}

const job = (overrides: Partial<JobView>): JobView =>
  ({
    id: '0192f3a4-0000-7000-8000-000000000001',
    function: groupJobFunction('g1', 'jobs.Hello'),
    context: 'group:g1',
    state: 'succeeded',
    args: { spark: null, config: { n: 1 } },
    result: { value: 'hi' },
    error: null,
    workerId: 'w1',
    startedAt: new Date(1_000),
    finishedAt: new Date(2_000),
    ...overrides,
  }) as JobView;

describe('Ilum group requests', () => {
  it('reads a request and refuses a malformed one with a 409 naming the field', () => {
    expect(
      parseGroupJobRequest({ type: 'interactive_job_execute', jobClass: 'jobs.Hello', jobConfig: { a: 1 } }),
    ).toEqual({ type: 'interactive_job_execute', jobClass: 'jobs.Hello', jobConfig: { a: 1 } });
    expect(parseGroupJobRequest({ jobClass: 'jobs.Hello' })).toEqual({
      type: 'interactive_job_execute',
      jobClass: 'jobs.Hello',
      jobConfig: {},
    });
    expect(refusal(() => parseGroupJobRequest([]))).toBe(
      '409 the body must be a JSON object {type, jobClass, jobConfig}, {type, code} or {type, code, cursor}',
    );
    expect(refusal(() => parseGroupJobRequest({ jobClass: 'a b' }))).toMatch(
      /^409 jobClass must be a class name/,
    );
    expect(refusal(() => parseGroupJobRequest({ jobClass: 'a..C' }))).toMatch(/^409 jobClass/);
    expect(parseGroupJobRequest({ jobClass: 'com.acme.WordCount' })).toMatchObject({
      jobClass: 'com.acme.WordCount',
    });
    expect(refusal(() => parseGroupJobRequest({ jobClass: 'jobs.Hello', jobConfig: [1] }))).toBe(
      '409 jobConfig must be an object',
    );
    expect(parseGroupJobRequest({ type: 'interactive_code_execute', code: '1 + 1' })).toEqual({
      type: 'interactive_code_execute',
      code: '1 + 1',
    });
    expect(refusal(() => parseGroupJobRequest({ type: 'interactive_code_execute', code: ' ' }))).toBe(
      '409 code must be a string of code that is not blank',
    );
    expect(refusal(() => parseGroupJobRequest({ type: 'interactive_code_execute' }))).toBe(
      '409 code must be a string of code that is not blank',
    );
    expect(refusal(() => parseGroupJobRequest({ type: 'run', jobClass: 'jobs.Hello' }))).toBe(
      '409 type must be interactive_job_execute, interactive_code_execute or interactive_code_complete',
    );
  });

  it('reads a completion request: code and a cursor within it (UTF-16 units), else a 409 naming the field', () => {
    expect(parseGroupJobRequest({ type: 'interactive_code_complete', code: 'x.', cursor: 2 })).toEqual({
      type: 'interactive_code_complete',
      code: 'x.',
      cursor: 2,
    });
    // An empty cell completes too (nothing to complete: the session answers []).
    expect(parseGroupJobRequest({ type: 'interactive_code_complete', code: '', cursor: 0 })).toMatchObject({
      cursor: 0,
    });
    // "é" is one unit, an emoji two: the code's length is the bound.
    expect(
      parseGroupJobRequest({ type: 'interactive_code_complete', code: '"é😀".le', cursor: 7 }),
    ).toMatchObject({
      cursor: 7,
    });
    for (const cursor of [-1, 3, 1.5, '1', null, undefined])
      expect(
        refusal(() => parseGroupJobRequest({ type: 'interactive_code_complete', code: 'x.', cursor })),
      ).toBe("409 cursor must be an integer from 0 to the code's length (2)");
    expect(refusal(() => parseGroupJobRequest({ type: 'interactive_code_complete', cursor: 0 }))).toBe(
      '409 code must be a string of code',
    );
    expect(
      refusal(() =>
        parseGroupJobRequest({
          type: 'interactive_code_complete',
          code: 'x'.repeat(256 * 1024 + 1),
          cursor: 0,
        }),
      ),
    ).toBe(`409 code must be at most ${256 * 1024} bytes`);
  });

  it('finds the file and entry a jobClass names, per language', () => {
    expect(groupProgramOf('PYTHON', 'jobs.Hello')).toEqual({
      file: 'jobs.py',
      entrypoint: 'Hello',
      runtime: 'python',
    });
    expect(groupProgramOf('NODE', 'jobs.hello')).toEqual({
      file: 'jobs.js',
      entrypoint: 'hello',
      runtime: 'node',
    });
    expect(groupProgramOf('SCALA', 'com.acme.WordCount')).toEqual({
      file: null,
      entrypoint: 'com.acme.WordCount',
      runtime: 'jvm-runner',
    });
    expect(refusal(() => groupProgramOf('PYTHON', 'a.b.C'))).toMatch(
      /^409 jobClass must be module\.Name in a PYTHON group/,
    );
    expect(groupJobArgs('python', { a: 1 })).toEqual({ spark: null, config: { a: 1 } });
    expect(groupJobArgs('jvm-runner', { a: 1 })).toEqual({ spark: null, config: { a: 1 } });
    expect(groupJobArgs('node', { a: 1 })).toEqual({ config: { a: 1 } });
  });

  it('answers an instance as groupJobInstanceInfo: result as a string, error with message and trace', () => {
    expect(groupJobInstanceOf('g1', job({}))).toEqual({
      jobInstanceId: '0192f3a4-0000-7000-8000-000000000001',
      jobId: 'w1',
      groupId: 'g1',
      startTime: 1_000,
      endTime: 2_000,
      jobClass: 'jobs.Hello',
      jobConfig: { n: 1 },
      result: 'hi',
      error: null,
    });
    expect(groupJobInstanceOf('g1', job({ result: { value: { rows: 2 } } })).result).toBe('{"rows":2}');
    // A CODE group's request: its session's answer, no jobClass.
    const code = groupJobInstanceOf(
      'g1',
      job({ function: groupCodeFunction('g1'), args: { code: 'x' }, result: { value: '42' } }),
    );
    expect(code).toMatchObject({ jobClass: null, jobConfig: {}, result: '42' });
    const failed = groupJobInstanceOf(
      'g1',
      job({
        state: 'failed',
        result: null,
        error: 'Traceback (most recent call last):\n  ...\nValueError: boom\n',
      }),
    );
    expect(failed.result).toBeNull();
    expect(failed.error).toEqual({
      message: 'ValueError: boom',
      stackTrace: 'Traceback (most recent call last):\n  ...\nValueError: boom\n',
    });
    const thrown = groupJobInstanceOf(
      'g1',
      job({ state: 'failed', result: null, error: 'ReferenceError: x is not defined\n    at <code>:1:1' }),
    );
    expect(thrown.error).toMatchObject({ message: 'ReferenceError: x is not defined' });
    const queued = groupJobInstanceOf(
      'g1',
      job({ state: 'queued', result: null, startedAt: null, finishedAt: null, workerId: null }),
    );
    expect(queued).toMatchObject({ jobId: null, startTime: null, endTime: null, result: null, error: null });
  });
});
