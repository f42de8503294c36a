import type { SpindleEvent } from '@spindle/contracts';
import { dispatchRuns } from './dispatch-state';

let n = 0;
function event(type: string, data: Record<string, unknown>): SpindleEvent {
  n++;
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type,
    version: 1,
    streamId: `s-${n}`,
    streamPosition: 1,
    occurredAt: '2026-12-05T00:00:00.000Z',
    correlationId: 'c',
    causationId: null,
    data,
  } as SpindleEvent;
}

const log = { lines: 0, bytes: 0 };
const succeeded = (id: string) => event('JobSucceeded', { id, log, result: null });
const stopped = (id: string) => event('WorkerStopped', { id, reason: 'its job ended' });
const started = (id: string) => event('WorkerStarted', { id, pid: null });
const jobStarted = (id: string, workerId: string) => event('JobStarted', { id, workerId, pid: 1 });
const assigned = (id: string, workerId: string) => event('JobAssigned', { id, workerId, hostId: 'h' });
const requested = (id: string) => event('WorkerRequested', { id, hostId: 'h' });
const requeued = (id: string) => event('JobRequeued', { id, workerId: 'w', reason: 'lost' });
const submitted = (id: string) => event('JobSubmitted', { id, context: 'c' });

const shape = (events: SpindleEvent[]) =>
  dispatchRuns(events).map(
    (run) => `${run.kind}:${run.events.map((e) => (e.data as { id: string }).id).join(',')}`,
  );

describe('the dispatch state: which events are applied together', () => {
  it("groups exclusive jobs' ends and their workers' stops into one run each", () => {
    expect(
      shape([succeeded('j1'), stopped('w1'), succeeded('j2'), stopped('w2'), succeeded('j3'), stopped('w3')]),
    ).toEqual(['job-finished:j1,j2,j3', 'worker-stopped:w1,w2,w3']);
  });

  it("groups exclusive workers' starts and their jobs' starts", () => {
    expect(shape([started('w1'), jobStarted('j1', 'w1'), started('w2'), jobStarted('j2', 'w2')])).toEqual([
      'worker-started:w1,w2',
      'job-started:j1,j2',
    ]);
  });

  it('keeps a worker before the jobs assigned to it, and a job assigned before it starts', () => {
    expect(
      shape([
        requested('w1'),
        assigned('j1', 'w1'),
        requested('w2'),
        assigned('j2', 'w2'),
        jobStarted('j1', 'w1'),
      ]),
    ).toEqual(['worker-requested:w1,w2', 'job-assigned:j1,j2', 'job-started:j1']);
    // The worker's request cannot move before an assignment to it.
    expect(shape([assigned('j1', 'w1'), requested('w1'), assigned('j2', 'w2')])).toEqual([
      'job-assigned:j1,j2',
      'worker-requested:w1',
    ]);
    expect(shape([assigned('j1', 'w1'), requested('w2'), assigned('j2', 'w2')])).toEqual([
      'job-assigned:j1',
      'worker-requested:w2',
      'job-assigned:j2',
    ]);
  });

  it('keeps the order of what marks workers idle, and of anything after a context event', () => {
    // A requeue and a finish may leave the same worker idle: which time it keeps is the later one's.
    expect(shape([succeeded('j1'), requeued('j2'), succeeded('j3')])).toEqual([
      'job-finished:j1',
      'job-requeued:j2',
      'job-finished:j3',
    ]);
    const created = event('ContextCreated', { name: 'c', settings: {} });
    expect(shape([succeeded('j1'), created, succeeded('j2')]).map((r) => r.split(':')[0])).toEqual([
      'job-finished',
      'context-settings',
      'job-finished',
    ]);
  });

  it('never moves one event past another of the same job', () => {
    expect(shape([jobStarted('j1', 'w1'), stopped('w9'), requeued('j1'), jobStarted('j2', 'w2')])).toEqual([
      'job-started:j1,j2',
      'worker-stopped:w9',
      'job-requeued:j1',
    ]);
  });

  it("leaves out a job's start or cancel request that its finish follows in the batch, so the ends go together", () => {
    const cancelRequested = (id: string) => event('JobCancelRequested', { id });
    expect(shape([succeeded('j1'), jobStarted('j2', 'w2'), succeeded('j2'), jobStarted('j3', 'w3')])).toEqual(
      ['job-finished:j1,j2', 'job-started:j3'],
    );
    expect(shape([cancelRequested('j1'), succeeded('j1')])).toEqual(['job-finished:j1']);
    // A start after its finish (the job was not in the table) and another job's start are kept.
    expect(shape([succeeded('j1'), jobStarted('j1', 'w1')])).toEqual(['job-finished:j1', 'job-started:j1']);
    // An assignment changes its worker too: kept, and so is its order.
    expect(shape([assigned('j1', 'w1'), succeeded('j1')])).toEqual(['job-assigned:j1', 'job-finished:j1']);
  });

  it('inserts a job placed as it was submitted already placed: its assignment joins the submits', () => {
    expect(
      shape([submitted('j1'), assigned('j1', 'w1'), submitted('j2'), submitted('j3'), assigned('j3', 'w1')]),
    ).toEqual(['job-submitted:j1,j1,j2,j3,j3']);
    // Not another job's assignment, nor one that would move before what touches its worker.
    expect(shape([submitted('j1'), assigned('j2', 'w1')])).toEqual(['job-submitted:j1', 'job-assigned:j2']);
    expect(shape([submitted('j1'), requested('w1'), submitted('j2'), assigned('j2', 'w1')])).toEqual([
      'job-submitted:j1,j2',
      'worker-requested:w1',
      'job-assigned:j2',
    ]);
  });
});
