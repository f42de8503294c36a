import { createContextCommandSchema } from './context.commands';
import { DEFAULT_CONTEXT_SETTINGS } from './context-settings';
import { MAX_DURATION_MS } from './durations';
import { submitJobCommandSchema } from './job.events';
import { stopWorkerCommandSchema } from './worker.events';

const metadata = { correlationId: 'c-1', issuedAt: '2026-12-01T10:00:00.000Z' };

// No command can carry a duration past what a Node timer holds, whichever edge built it.
describe('durations in commands', () => {
  const context = (settings: object) =>
    createContextCommandSchema.safeParse({
      ...metadata,
      name: 'etl',
      settings: { ...DEFAULT_CONTEXT_SETTINGS, ...settings },
    }).success;

  it('takes context durations from 0 to the bound, or none', () => {
    expect(context({ downtimeMs: 0, streamingDurationMs: MAX_DURATION_MS })).toBe(true);
    expect(context({ downtimeMs: null })).toBe(true);
  });

  it('refuses context durations past the bound', () => {
    expect(context({ downtimeMs: MAX_DURATION_MS + 1 })).toBe(false);
    expect(context({ streamingDurationMs: 8.64e19 })).toBe(false);
  });

  it('takes job timeouts from 1 ms to the bound only', () => {
    const submit = (timeouts: object) =>
      submitJobCommandSchema.safeParse({
        ...metadata,
        id: '0193a5b2-7c1e-7f00-8000-1234567890ab',
        function: 'sum',
        args: {},
        artifact: 'sum.js',
        artifactSha256: 'a'.repeat(64),
        ...timeouts,
      }).success;
    expect(submit({ startTimeoutMs: 1, performTimeoutMs: MAX_DURATION_MS })).toBe(true);
    expect(submit({})).toBe(true);
    expect(submit({ performTimeoutMs: MAX_DURATION_MS + 1 })).toBe(false);
    expect(submit({ startTimeoutMs: 8_640_000_000 })).toBe(false);
    expect(submit({ performTimeoutMs: 0 })).toBe(false);
  });

  it('bounds the grace of a worker stop the same way', () => {
    const stop = (graceMs: unknown) =>
      stopWorkerCommandSchema.safeParse({ ...metadata, id: 'w-1', graceMs }).success;
    expect([0, MAX_DURATION_MS, null, undefined].map(stop)).toEqual([true, true, true, true]);
    expect([-1, MAX_DURATION_MS + 1, 1.5].map(stop)).toEqual([false, false, false]);
  });
});
