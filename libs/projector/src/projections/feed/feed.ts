import type { EntityManager } from 'typeorm';
import type { EventEnvelope, JobEvent, WorkerEvent } from '@spindle/contracts';
import { FeedEntryView, JobView, WorkerView } from '@spindle/read-models';

const JOB_STATE_AFTER: Record<JobEvent['type'], string> = {
  JobSubmitted: 'queued',
  JobAssigned: 'starting',
  JobStarted: 'running',
  JobRequeued: 'queued',
  JobCancelRequested: 'cancelling',
  JobSucceeded: 'succeeded',
  JobFailed: 'failed',
  JobCancelled: 'cancelled',
  JobTimedOut: 'timed_out',
};
const WORKER_STATE_AFTER: Record<WorkerEvent['type'], string> = {
  WorkerRequested: 'starting',
  WorkerStarted: 'running',
  WorkerPidChanged: 'running', // a runner starts for a task, and tasks start on running workers
  WorkerStopRequested: 'stopping',
  WorkerStopped: 'stopped',
};

// Appends job or worker changes to the feed, after their rows were written in the same
// transaction (the rows give each entry its context, function and worker). The event id is unique
// there, so a redelivered event adds nothing.
export async function appendToFeed(
  manager: EntityManager,
  kind: 'job' | 'worker',
  events: readonly EventEnvelope[],
): Promise<void> {
  if (events.length === 0) return;
  const streamIds = [...new Set(events.map((e) => e.streamId))];
  const entity = kind === 'job' ? JobView : WorkerView;
  const rows = await manager
    .getRepository<JobView | WorkerView>(entity)
    .createQueryBuilder('r')
    .where('r.stream_id in (:...streamIds)', { streamIds })
    .getMany();
  const byStream = new Map(rows.map((r) => [r.streamId, r]));
  const entries = events.flatMap((event) => {
    const row = byStream.get(event.streamId);
    if (!row) return [];
    const data = { ...(event.data as Record<string, unknown>) };
    delete data.task; // the assignment repeats the job's arguments and program
    const job = kind === 'job' ? (row as JobView) : null;
    return [
      {
        eventId: event.id,
        kind,
        type: event.type,
        subjectId: row.id,
        state:
          kind === 'job'
            ? JOB_STATE_AFTER[event.type as JobEvent['type']]
            : WORKER_STATE_AFTER[event.type as WorkerEvent['type']],
        context: row.context,
        function: job?.function ?? null,
        workerId: job ? (typeof data.workerId === 'string' ? data.workerId : job.workerId) : row.id,
        data,
        occurredAt: new Date(event.occurredAt),
      },
    ];
  });
  if (entries.length === 0) return;
  await manager
    .createQueryBuilder()
    .insert()
    .into(FeedEntryView)
    .values(entries as never)
    .orIgnore()
    .execute();
}
