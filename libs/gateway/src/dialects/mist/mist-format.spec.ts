import type { JobView } from '@spindle/read-models';
import { jobDetails, mistLogLine } from './mist-format';

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
