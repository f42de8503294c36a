import type { SpindleEvent } from '@spindle/contracts';
import { needsPass } from './dispatcher';

const event = (type: string, streamId: string, data: Record<string, unknown> = {}): SpindleEvent =>
  ({ type, streamId, data }) as unknown as SpindleEvent;
const submitted = (job: string, context = 'c') => event('JobSubmitted', `job-${job}`, { id: job, context });
const assigned = (job: string) => event('JobAssigned', `job-${job}`);

// Which commits wake the dispatcher: a pass holds the placement lock that submits take too, so
// a commit that cannot let a job be placed must not call for one.
describe('needsPass', () => {
  it('is not called for by jobs placed on their own submit, waiting or not', () => {
    const placed = [submitted('a'), assigned('a'), submitted('b'), assigned('b')];
    expect(needsPass(placed, false)).toBe(false);
    expect(needsPass(placed, true)).toBe(false);
  });

  it('is called for by a job left queued on its submit, beside others placed', () => {
    expect(needsPass([submitted('a'), assigned('a'), submitted('b')], false)).toBe(true);
  });

  it('is called for by a job that ends only while jobs wait for its room', () => {
    const ended = [event('JobSucceeded', 'job-a'), event('WorkerStopped', 'worker-w')];
    expect(needsPass(ended, true)).toBe(true);
    expect(needsPass(ended, false)).toBe(false);
  });

  it('is called for by a job put back in its queue, and by a context that changes, whatever waits', () => {
    expect(needsPass([event('JobRequeued', 'job-a')], false)).toBe(true);
    expect(needsPass([event('ContextSettingsChanged', 'context-c')], false)).toBe(true);
    expect(needsPass([event('GroupRescaled', 'group-g')], false)).toBe(true);
  });

  it('is never called for by starts, which change nothing a pass reads', () => {
    expect(needsPass([event('JobStarted', 'job-a'), event('WorkerStarted', 'worker-w')], true)).toBe(false);
  });

  it('is not called for by jobs that join a queue the last pass found no room for', () => {
    const blocked = new Set(['full']);
    expect(needsPass([submitted('a', 'full'), submitted('b', 'full')], true, blocked)).toBe(false);
    // Another queue's, or one placed on its submit beside it, or anything that may make room.
    expect(needsPass([submitted('a', 'full'), submitted('b', 'open')], true, blocked)).toBe(true);
    expect(needsPass([submitted('a', 'full'), event('JobSucceeded', 'job-z')], true, blocked)).toBe(true);
    expect(needsPass([submitted('a', 'other'), assigned('a'), submitted('b', 'full')], true, blocked)).toBe(
      false,
    );
  });
});
