import { isJobEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { JobView } from './job.view';

// How each job event changes a job's read-model row. Pure, and shared by the projector (which
// writes the rows) and the gateway (which answers a submit with the row its events make, without
// waiting for the projector).
export function evolveJobView(row: JobView | null, event: SpindleEvent): JobView | null {
  if (!isJobEvent(event)) throw new Error(`unexpected ${event.type} for the jobs read model`);
  const at = new Date(event.occurredAt);
  if (event.type === 'JobSubmitted') {
    const d = event.data;
    return Object.assign(new JobView(), {
      streamId: event.streamId,
      streamPosition: event.streamPosition,
      id: d.id,
      function: d.function,
      context: d.context,
      state: 'queued',
      args: d.args,
      result: null,
      error: null,
      workerId: null,
      hostId: null,
      pid: null,
      externalId: d.externalId,
      source: d.source ?? null,
      attempt: 1,
      secrets: [...(d.secrets ?? [])],
      name: d.name ?? null,
      cluster: d.cluster ?? null,
      tags: d.tags ?? null,
      artifact: d.program.artifact,
      entrypoint: d.program.entrypoint,
      runtime: d.program.runtime,
      startTimeoutMs: d.startTimeoutMs,
      performTimeoutMs: d.performTimeoutMs,
      logLines: null,
      logBytes: null,
      createdAt: at,
      startedAt: null,
      finishedAt: null,
      updatedAt: at,
      deletedAt: null,
    } satisfies Omit<JobView, never>);
  }
  if (!row) return null;
  const next = { ...row, updatedAt: at };
  switch (event.type) {
    case 'JobAssigned':
      return { ...next, state: 'starting', workerId: event.data.workerId, hostId: event.data.hostId };
    case 'JobStarted':
      return { ...next, state: 'running', pid: event.data.pid, startedAt: at };
    case 'JobRequeued':
      // Back in its queue: the lost attempt's placement is forgotten, the next one starts afresh.
      return {
        ...next,
        state: 'queued',
        workerId: null,
        hostId: null,
        pid: null,
        startedAt: null,
        attempt: event.data.attempt,
      };
    case 'JobCancelRequested':
      return { ...next, state: 'cancelling' };
    case 'JobSucceeded':
      return { ...ended(next, at, event.data.log), state: 'succeeded', result: { value: event.data.result } };
    case 'JobFailed':
      return { ...ended(next, at, event.data.log), state: 'failed', error: event.data.error };
    case 'JobCancelled':
      return { ...ended(next, at, event.data.log), state: 'cancelled', error: event.data.reason };
    case 'JobTimedOut':
      return {
        ...ended(next, at, event.data.log),
        state: 'timed_out',
        error:
          event.data.phase === 'start'
            ? `not started within its startTimeout (${row.startTimeoutMs} ms)`
            : `not finished within its performTimeout (${row.performTimeoutMs} ms)`,
      };
    case 'JobDeleted':
      return { ...next, deletedAt: at };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected job event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

function ended(row: JobView, at: Date, log: { lines: number; bytes: number } | null): JobView {
  return {
    ...row,
    finishedAt: at,
    logLines: log?.lines ?? row.logLines ?? 0,
    logBytes: log?.bytes ?? row.logBytes ?? 0,
  };
}
