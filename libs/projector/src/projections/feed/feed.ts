import type { EntityManager } from 'typeorm';
import { runStatements } from '@spindle/backbone';
import type { EventConsumer, StatementParts, StreamProjection, StreamRow } from '@spindle/backbone';
import { isJobEvent, isWorkerEvent } from '@spindle/contracts';
import type { JobEvent, SpindleEvent, WorkerEvent } from '@spindle/contracts';
import { PROJECTOR_SCHEMA } from '@spindle/read-models';

// A deletion changes no state and is no change a follower of the feed waits for: not carried.
type FedJobEvent = Exclude<JobEvent['type'], 'JobDeleted'>;
const JOB_STATE_AFTER: Record<FedJobEvent, string> = {
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

// What the feed takes from a job's or worker's row.
interface FeedSubject {
  readonly id: string;
  readonly context: string;
  readonly function?: string | null;
  readonly workerId?: string | null;
}

// A jobs or workers read model with each change on the feed, written with its rows: in the
// consumer runner's claim statement, or one after the other in a caller's transaction.
export function withFeed<TRow extends StreamRow & FeedSubject>(
  kind: 'job' | 'worker',
  rows: StreamProjection<TRow>,
): EventConsumer {
  const writes = async (events: readonly SpindleEvent[], manager: EntityManager) => {
    const folded = await rows.rowWrites(events, manager);
    const feed = feedEntries(kind, events, folded.rows);
    return feed ? [...folded.writes, feed] : folded.writes;
  };
  return {
    name: rows.name,
    topics: rows.topics,
    writes,
    async handle(events, manager) {
      await runStatements(manager, await writes(events, manager));
    },
  };
}

// Job or worker changes as feed entries, from the rows their projection has just folded (the rows
// give each entry its context, function and worker): a write that goes with the rows' own, or
// nothing when no event is carried. The event id is unique there, so a redelivered event adds
// nothing. One plain statement: this runs for every job event, and TypeORM's query builder was a
// visible share of the projector's CPU.
function feedEntries(
  kind: 'job' | 'worker',
  events: readonly SpindleEvent[],
  byStream: ReadonlyMap<string, FeedSubject>,
): StatementParts | undefined {
  const entries = events.flatMap((event) => {
    const row = byStream.get(event.streamId);
    if (!row || event.type === 'JobDeleted') return [];
    const data: Record<string, unknown> = { ...event.data };
    delete data.task; // the assignment repeats the job's arguments and program
    return [
      {
        event_id: event.id,
        kind,
        type: event.type,
        subject_id: row.id,
        state: isJobEvent(event)
          ? JOB_STATE_AFTER[event.type]
          : isWorkerEvent(event)
            ? WORKER_STATE_AFTER[event.type]
            : undefined,
        context: row.context,
        function: kind === 'job' ? (row.function ?? null) : null,
        worker_id: kind === 'job' ? workerOfJobEvent(event, data, row) : row.id,
        data,
        occurred_at: event.occurredAt,
      },
    ];
  });
  if (entries.length === 0) return undefined;
  return {
    // In event order: seq is the feed's order, and readers resume by it.
    with: [],
    statement: `insert into "${PROJECTOR_SCHEMA}".feed_v1
       (event_id, kind, type, subject_id, state, context, function, worker_id, data, occurred_at)
     select event_id, kind, type, subject_id, state, context, function, worker_id, data, occurred_at
     from jsonb_populate_recordset(null::"${PROJECTOR_SCHEMA}".feed_v1, $1::jsonb) with ordinality as e(
       seq, event_id, kind, type, subject_id, state, context, function, worker_id, data, occurred_at, tx, n)
     order by n
     on conflict (event_id) do nothing`,
    params: [JSON.stringify(entries)],
  };
}

// The worker as of this event. Most job events name it; a submitted job has none yet (the row may
// already have one: its assignment can be projected in the same batch); an ending names none and
// ends the last attempt, the row's.
function workerOfJobEvent(
  event: SpindleEvent,
  data: Record<string, unknown>,
  row: FeedSubject,
): string | null {
  if (typeof data.workerId === 'string') return data.workerId;
  if (event.type === 'JobSubmitted') return null;
  return row.workerId ?? null;
}
