import type { JobView } from '@spindle/read-models';
import { jobDetails, mistLogLine, parseMistBodyDuration, parseMistTimeout } from './mist-format';

const job = {
  id: '0193a5b2-7c1e-7f00-8000-1234567890ab',
  function: 'sum',
  context: 'default',
  state: 'queued',
  args: { a: 1 },
  result: null,
  error: null,
  workerId: null,
  externalId: null,
  source: 'http',
  artifact: 'sum.py',
  entrypoint: 'sum',
  createdAt: new Date('2026-11-22T10:00:00.000Z'),
  startedAt: null,
  finishedAt: null,
} as unknown as JobView;

describe('Mist JobDetails', () => {
  it.each([
    ['http', 'Http'],
    ['kafka', 'Async Kafka'],
    ['mqtt', 'Async Mqtt'],
    [null, 'Http'], // recorded before sources were kept
  ])('shows source %s as %s', (source, shown) => {
    expect(jobDetails({ ...job, source } as JobView)['source']).toBe(shown);
  });
});

describe('Mist log lines', () => {
  it('writes level, UTC local time with milliseconds, stream and text', () => {
    const at = '2026-11-22T10:00:00.000Z';
    expect(mistLogLine({ at, stream: 'stdout', text: 'adding 1 2' })).toBe(
      'INFO 2026-11-22T10:00:00.000 [stdout] adding 1 2\n',
    );
    expect(mistLogLine({ at: '2026-11-22T11:00:00+01:00', stream: 'stderr', text: 'x' })).toBe(
      'WARN 2026-11-22T10:00:00.000 [stderr] x\n',
    );
  });
});

describe('Mist durations', () => {
  it.each([
    ['10s', 10_000],
    ['1ns', 1], // rounded up: a timeout is at least 1 ms
    ['2147483647ms', 2_147_483_647],
    ['Inf', null],
  ])('takes the timeout %s as %s ms', (text, ms) => {
    expect(parseMistTimeout('performTimeout', text)).toEqual({ ms });
  });

  it.each(['0s', '25d', '2147483648ms'])(
    'refuses the timeout %s, naming the parameter and the range',
    (text) => {
      expect(parseMistTimeout('startTimeout', text)).toEqual({
        error: expect.stringMatching(/^startTimeout: .* is out of range: from 1ms to 2147483647ms/),
      });
    },
  );

  it('refuses a timeout that is no duration', () => {
    expect(parseMistTimeout('startTimeout', '10 parsecs')).toEqual({
      error: expect.stringContaining('is not a duration'),
    });
  });

  it('takes body durations up to the bound only', () => {
    expect(parseMistBodyDuration('2147483s')).toBe(2_147_483_000);
    expect(parseMistBodyDuration('2147484s')).toBeUndefined();
    expect(parseMistBodyDuration('Inf')).toBeNull();
  });
});
