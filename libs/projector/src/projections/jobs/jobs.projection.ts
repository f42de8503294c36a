import { EventTopics } from '@spindle/contracts';
import type { EventEnvelope, JobEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import type { EventConsumer } from '@spindle/backbone';
import { JobView } from '@spindle/read-models';
import { appendToFeed } from '../feed/feed';

export function evolveJobView(row: JobView | null, envelope: EventEnvelope): JobView | null {
  const event = envelope as JobEvent;
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

const rows = streamProjection<JobView>({
  name: 'projector.jobs.v1',
  topics: [EventTopics.schedulerJob],
  entity: JobView,
  evolve: evolveJobView,
});

// The jobs read model, and each change on the feed in the same transaction.
export const jobsProjection: EventConsumer = {
  name: rows.name,
  topics: rows.topics,
  async handle(events, manager) {
    await rows.handle(events, manager);
    await appendToFeed(manager, 'job', events);
  },
};
