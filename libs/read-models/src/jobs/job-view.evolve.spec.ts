import { newEventId, parseEvent } from '@spindle/contracts';
import type { JobSubmittedV1, SpindleEvent } from '@spindle/contracts';
import { evolveJobView } from './job-view.evolve';

const id = '0193a5b2-7c1e-7f00-8000-1234567890ab';
const submitted: JobSubmittedV1 = {
  id,
  function: 'sum',
  context: 'default',
  args: { a: 1 },
  program: { artifact: 'sum.js', sha256: 'a'.repeat(64), entrypoint: 'sum', runtime: 'node' },
  externalId: null,
  startTimeoutMs: null,
  performTimeoutMs: null,
};

const task = {
  function: submitted.function,
  context: submitted.context,
  args: submitted.args,
  program: submitted.program,
  performTimeoutMs: null,
};

function event(type: string, position: number, data: object): SpindleEvent {
  return parseEvent({
    id: newEventId(),
    type,
    version: 1,
    streamId: `job-${id}`,
    streamPosition: position,
    occurredAt: '2026-11-22T10:00:00.000Z',
    correlationId: 'c',
    causationId: null,
    data,
  });
}

describe('jobs read model', () => {
  it('keeps a deleted job as a tombstone: its state, with deletedAt', () => {
    const row = evolveJobView(null, event('JobSubmitted', 1, submitted))!;
    expect(row.deletedAt).toBeNull();
    const cancelled = evolveJobView(row, event('JobCancelled', 2, { id, reason: 'stop', log: null }))!;
    const deleted = evolveJobView(cancelled, event('JobDeleted', 3, { id }))!;
    expect(deleted).toMatchObject({
      state: 'cancelled',
      error: 'stop',
      deletedAt: new Date('2026-11-22T10:00:00.000Z'),
    });
  });

  it('keeps the labels a job was given (Ilum: name, cluster, tags), and none as null', () => {
    const labels = { name: 'nightly', cluster: 'laptop', tags: { team: 'etl' } };
    const row = evolveJobView(null, event('JobSubmitted', 1, { ...submitted, ...labels }))!;
    expect(row).toMatchObject(labels);
    const started = evolveJobView(row, event('JobStarted', 2, { id, workerId: 'w1', pid: 7 }));
    expect(started).toMatchObject({ state: 'running', ...labels });
    const plain = evolveJobView(null, event('JobSubmitted', 1, submitted))!;
    expect(plain).toMatchObject({ name: null, cluster: null, tags: null });
  });

  it('keeps where the job came from, and keeps it as the job moves on', () => {
    const row = evolveJobView(null, event('JobSubmitted', 1, { ...submitted, source: 'kafka' }))!;
    expect(row).toMatchObject({ id, state: 'queued', source: 'kafka' });
    const assigned = evolveJobView(row, event('JobAssigned', 2, { id, workerId: 'w1', hostId: 'h1', task }));
    expect(assigned).toMatchObject({ state: 'starting', source: 'kafka' });
  });

  it('reads a source not recorded (an event from before sources) as null', () => {
    expect(evolveJobView(null, event('JobSubmitted', 1, submitted))).toMatchObject({ source: null });
  });

  it('puts a requeued job back to queued on its next attempt, forgetting the lost placement', () => {
    let row = evolveJobView(null, event('JobSubmitted', 1, submitted))!;
    expect(row.attempt).toBe(1);
    row = evolveJobView(row, event('JobAssigned', 2, { id, workerId: 'w1', hostId: 'h1', task }))!;
    row = evolveJobView(row, event('JobStarted', 3, { id, workerId: 'w1', pid: 42 }))!;
    const requeued = evolveJobView(
      row,
      event('JobRequeued', 4, { id, attempt: 2, reason: 'host gone', workerId: 'w1' }),
    );
    expect(requeued).toMatchObject({
      state: 'queued',
      attempt: 2,
      workerId: null,
      hostId: null,
      pid: null,
      startedAt: null,
      finishedAt: null,
      error: null,
    });
  });
});
