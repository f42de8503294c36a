import { DEFAULT_CONTEXT_SETTINGS } from './scheduler/context-settings';
import { InvalidEventError, parseEvent } from './event-registry';

const valid = {
  id: '01968f4e-8a2b-7c3d-9e4f-0a1b2c3d4e5f',
  type: 'ContextCreated',
  version: 1,
  streamId: 'context-etl',
  streamPosition: 1,
  occurredAt: '2026-11-22T10:00:00.000Z',
  correlationId: 'c',
  causationId: null,
  data: { name: 'etl', settings: DEFAULT_CONTEXT_SETTINGS },
};

describe('parseEvent', () => {
  it('accepts a well-formed, known event', () => {
    expect(parseEvent(valid)).toEqual(valid);
  });

  it.each([
    ['a missing stream id', { ...valid, streamId: undefined }],
    ['a zero position', { ...valid, streamPosition: 0 }],
    ['an unknown type', { ...valid, type: 'ContextExploded' }],
    ['an unknown version', { ...valid, version: 7 }],
    ['a payload that breaks its schema', { ...valid, data: { name: 'etl', settings: { maxJobs: 'many' } } }],
  ])('rejects %s', (_what, raw) => {
    expect(() => parseEvent(raw)).toThrow(InvalidEventError);
  });
});

describe('JobSubmitted@1', () => {
  const submitted = {
    ...valid,
    type: 'JobSubmitted',
    streamId: 'job-0193a5b2-7c1e-7f00-8000-1234567890ab',
    data: {
      id: '0193a5b2-7c1e-7f00-8000-1234567890ab',
      function: 'sum',
      context: 'default',
      args: {},
      program: { artifact: 'sum.js', sha256: 'a'.repeat(64), entrypoint: 'sum', runtime: 'node' },
      externalId: null,
      startTimeoutMs: null,
      performTimeoutMs: null,
    },
  };

  it('takes a source, and events recorded before sources without one', () => {
    expect(parseEvent({ ...submitted, data: { ...submitted.data, source: 'kafka' } }).data).toMatchObject({
      source: 'kafka',
    });
    expect(parseEvent({ ...submitted, data: { ...submitted.data, source: 'mqtt' } }).data).toMatchObject({
      source: 'mqtt',
    });
    expect(parseEvent(submitted).data).not.toHaveProperty('source');
  });

  it('rejects a source outside the closed set', () => {
    expect(() => parseEvent({ ...submitted, data: { ...submitted.data, source: 'carrier-pigeon' } })).toThrow(
      InvalidEventError,
    );
  });
});
