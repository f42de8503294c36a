import {
  groupContextName,
  isContextEvent,
  isGroupEvent,
  isJobEvent,
  isWorkerEvent,
} from '@spindle/contracts';
import type { ContextEvent, GroupEvent, JobEvent, SpindleEvent, WorkerEvent } from '@spindle/contracts';
import type { StatementParts } from '@spindle/backbone';
import { groupPoolSettings } from '../groups/pool/group-pool';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

type DispatchEvent = ContextEvent | GroupEvent | JobEvent | WorkerEvent;

// Other events (functions, say) change no dispatch table. A group's workers are a pool of its
// own (groupPoolSettings), so its events keep that pool's context row.
const isDispatchEvent = (event: SpindleEvent): event is DispatchEvent =>
  isContextEvent(event) || isGroupEvent(event) || isJobEvent(event) || isWorkerEvent(event);

// Events that change the dispatch tables alike, applied together.
export type Kind =
  | 'context-settings'
  | 'context-deleted'
  | 'group-pool'
  | 'group-retired'
  | 'job-submitted'
  | 'job-assigned'
  | 'job-started'
  | 'job-requeued'
  | 'job-cancel-requested'
  | 'job-finished'
  | 'worker-requested'
  | 'worker-started'
  | 'worker-stop-requested'
  | 'worker-stopped'
  | 'none';

function kindOf(event: DispatchEvent): Kind {
  switch (event.type) {
    case 'ContextCreated':
    case 'ContextSettingsChanged':
      return 'context-settings';
    case 'ContextDeleted':
      return 'context-deleted';
    case 'GroupCreated':
    case 'GroupRescaled':
      return 'group-pool';
    case 'GroupStopped':
    case 'GroupDeleted':
      return 'group-retired';
    case 'JobSubmitted':
      return 'job-submitted';
    case 'JobAssigned':
      return 'job-assigned';
    case 'JobStarted':
      return 'job-started';
    case 'JobRequeued':
      return 'job-requeued';
    case 'JobCancelRequested':
      return 'job-cancel-requested';
    case 'JobSucceeded':
    case 'JobFailed':
    case 'JobCancelled':
    case 'JobTimedOut':
      return 'job-finished';
    case 'JobDeleted':
      return 'none'; // an ended job: nothing left to dispatch
    case 'WorkerRequested':
      return 'worker-requested';
    case 'WorkerStarted':
      return 'worker-started';
    case 'WorkerStopRequested':
      return 'worker-stop-requested';
    case 'WorkerStopped':
      return 'worker-stopped';
    case 'WorkerPidChanged':
      return 'none'; // which process a worker runs in is no dispatch matter
    default:
      return 'none'; // functions: nothing to dispatch
  }
}

// The statements that keep the dispatch tables true to the events appended, in order, for the
// same transaction. Events of one kind (a batch of submits, of assignments, of finishes) are one
// statement whatever their number; see dispatchRuns for which go together. The first statement
// can ride in the append's own (StatementParts; SchedulerCommandsService does that).
export function dispatchStatements(appended: readonly SpindleEvent[]): StatementParts[] {
  return dispatchRuns(appended).flatMap((run) => statementsOfRun(run.kind, run.events));
}

export interface DispatchRun {
  readonly kind: Kind;
  readonly events: readonly SpindleEvent[];
}

// The events of a batch as runs of one kind each, applied in order. An event joins the last run
// of its kind when no run after that one touches what it touches (its job, its worker; context
// and group events touch everything), so the statements of the two change other rows and their
// order makes no difference: the finishes of many exclusive jobs, each followed by its worker's
// stop, are two runs and not two per job. Otherwise it starts a run of its own after the others:
// a worker is in the table before the jobs assigned to it in the same batch.
//
// A job placed as it is submitted (its JobAssigned right after its JobSubmitted: the submit's own
// placement, dispatch/submit-placement.ts) goes into its queue's table already placed: the
// assignment joins the submit's run, and the job's row is inserted as `starting` on its worker in
// one statement, not inserted and then updated.
export function dispatchRuns(appended: readonly SpindleEvent[]): DispatchRun[] {
  const runs: { kind: Kind; events: SpindleEvent[]; touches: Set<string> }[] = [];
  let previous: { event: SpindleEvent; run: (typeof runs)[number] } | undefined;
  const finishedAt = lastFinishes(appended);
  for (const [at, event] of appended.entries()) {
    const kind = isDispatchEvent(event) ? kindOf(event) : 'none';
    if (kind === 'none' || movedByItsFinish(kind, event, at, finishedAt)) {
      previous = undefined;
      continue;
    }
    const touches = touchedBy(kind, event as DispatchEvent);
    if (kind === 'job-assigned' && previous && placedAsSubmitted(previous.event, event)) {
      const at = runs.indexOf(previous.run);
      if (runs.slice(at + 1).every((run) => !overlaps(run.touches, touches))) {
        previous.run.events.push(event);
        for (const key of touches) previous.run.touches.add(key);
        previous = undefined;
        continue;
      }
    }
    let joined = false;
    // A context's settings are upserted one event at a time: those never join (touches has '*').
    for (let i = runs.length - 1; i >= 0 && !touches.has(EVERYTHING); i--) {
      const run = runs[i]!;
      if (run.kind === kind) {
        run.events.push(event);
        for (const key of touches) run.touches.add(key);
        previous = { event, run };
        joined = true;
        break;
      }
      if (overlaps(run.touches, touches)) break;
    }
    if (!joined) {
      const run = { kind, events: [event], touches };
      runs.push(run);
      previous = { event, run };
    }
  }
  return runs;
}

// Where in the batch each job's last finish is (its row is deleted there).
function lastFinishes(appended: readonly SpindleEvent[]): Map<string, number> {
  const at = new Map<string, number>();
  appended.forEach((event, i) => {
    if (isDispatchEvent(event) && kindOf(event) === 'job-finished')
      at.set((event.data as { id: string }).id, i);
  });
  return at;
}

// A job's start or cancel request that its own finish follows in the same batch changes only
// the job's row, which the finish deletes: it is left out. A no-op job's start and end reports
// often come in one batch of the agent reports' consumer, and the start kept the end apart from
// the other jobs' ends: [end A] [start B] [end B] were three runs and five statements (each end
// also marks its worker idle), now one run and one statement.
function movedByItsFinish(
  kind: Kind,
  event: SpindleEvent,
  at: number,
  finishedAt: Map<string, number>,
): boolean {
  if (kind !== 'job-started' && kind !== 'job-cancel-requested') return false;
  return (finishedAt.get((event.data as { id: string }).id) ?? -1) > at;
}

function overlaps(run: ReadonlySet<string>, touches: ReadonlySet<string>): boolean {
  return run.has(EVERYTHING) || [...touches].some((key) => run.has(key));
}

function placedAsSubmitted(submitted: SpindleEvent, assigned: SpindleEvent): boolean {
  return (
    submitted.type === 'JobSubmitted' &&
    (submitted.data as { id: string }).id === (assigned.data as { id: string }).id
  );
}

const EVERYTHING = '*';

// What an event's statements touch besides rows of its own job or worker: a finished or requeued
// job marks its worker idle (its worker read from the job's row, so not known here) at its own
// time, and the order of two of those decides which time a worker keeps.
function touchedBy(kind: Kind, event: DispatchEvent): Set<string> {
  switch (kind) {
    case 'context-settings':
    case 'context-deleted':
    case 'group-pool':
    case 'group-retired':
      return new Set([EVERYTHING]);
    case 'job-requeued':
    case 'job-finished':
      return new Set([`job:${(event.data as { id: string }).id}`, 'idle']);
    case 'job-assigned': {
      const { id, workerId } = event.data as { id: string; workerId: string };
      return new Set([`job:${id}`, `worker:${workerId}`]);
    }
    case 'job-submitted':
    case 'job-started':
    case 'job-cancel-requested':
      return new Set([`job:${(event.data as { id: string }).id}`]);
    case 'worker-requested':
    case 'worker-started':
    case 'worker-stop-requested':
    case 'worker-stopped':
      return new Set([`worker:${(event.data as { id: string }).id}`]);
    case 'none':
      return new Set();
    default: {
      const unknownKind: never = kind;
      throw new Error(`unexpected dispatch kind ${String(unknownKind)}`);
    }
  }
}

function statementsOfRun(kind: Kind, run: readonly SpindleEvent[]): StatementParts[] {
  if (run.length === 0) return [];
  const ids = run.map((e) => (e.data as { id: string }).id);
  const ats = run.map((e) => e.occurredAt);
  switch (kind) {
    case 'context-settings':
      return (run as Extract<ContextEvent, { type: 'ContextCreated' | 'ContextSettingsChanged' }>[]).map(
        (event) => upsertContext(event.data.name, event.data.settings),
      );
    case 'context-deleted': {
      const names = (run as Extract<ContextEvent, { type: 'ContextDeleted' }>[]).map((e) => e.data.name);
      return [
        statement(`update ${s}.dispatch_contexts set deleted = true where name = any($1::text[])`, [names]),
      ];
    }
    case 'group-pool':
      return (run as Extract<GroupEvent, { type: 'GroupCreated' | 'GroupRescaled' }>[]).map((event) =>
        upsertContext(groupContextName(event.data.id), groupPoolSettings(event.data.scale)),
      );
    case 'group-retired': {
      // Its workers stop once idle (housekeeping), its queued requests are refused.
      const names = (run as Extract<GroupEvent, { type: 'GroupStopped' | 'GroupDeleted' }>[]).map((e) =>
        groupContextName(e.data.id),
      );
      return [
        statement(`update ${s}.dispatch_contexts set deleted = true where name = any($1::text[])`, [names]),
      ];
    }
    case 'job-submitted': {
      // With the assignments of the jobs placed as they were submitted (dispatchRuns).
      type Submitted = Extract<JobEvent, { type: 'JobSubmitted' }>;
      type Assigned = Extract<JobEvent, { type: 'JobAssigned' }>;
      const submitted = run.filter((e): e is Submitted => e.type === 'JobSubmitted');
      const placed = new Map(
        run.filter((e): e is Assigned => e.type === 'JobAssigned').map((e) => [e.data.id, e.data]),
      );
      const data = submitted.map((e) => e.data);
      // In the order submitted: `seq` is the queue's order.
      // With the submit's correlation id and event id: what the dispatcher then decides about the
      // job carries them on. A placed job's worker is no longer idle (as 'job-assigned' does).
      return [
        {
          with: [
            `inserted as (
               insert into ${s}.dispatch_jobs (id, context, state, submitted_at, start_deadline, perform_timeout_ms,
                                               correlation_id, submitted_event_id, worker_id, host_id)
               select v.id, v.context, case when v.worker_id is null then 'queued' else 'starting' end, v.at,
                      v.at + make_interval(secs => v.start_timeout_ms::double precision / 1000), v.perform_timeout_ms,
                      v.correlation_id, v.event_id, v.worker_id, v.host_id
               from unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[],
                           $8::text[], $9::text[])
                    with ordinality as v(id, context, at, start_timeout_ms, perform_timeout_ms, correlation_id,
                                         event_id, worker_id, host_id, n)
               order by v.n
               returning worker_id)`,
          ],
          statement: `update ${s}.dispatch_workers set idle_since = null
                      where id in (select worker_id from inserted where worker_id is not null)`,
          params: [
            data.map((d) => d.id),
            data.map((d) => d.context),
            submitted.map((e) => e.occurredAt),
            data.map((d) => d.startTimeoutMs),
            data.map((d) => d.performTimeoutMs),
            submitted.map((e) => e.correlationId),
            submitted.map((e) => e.id),
            data.map((d) => placed.get(d.id)?.workerId ?? null),
            data.map((d) => placed.get(d.id)?.hostId ?? null),
          ],
        },
      ];
    }
    case 'job-assigned': {
      const data = (run as Extract<JobEvent, { type: 'JobAssigned' }>[]).map((e) => e.data);
      return [
        {
          with: [
            `placed as (
               update ${s}.dispatch_jobs j set state = 'starting', worker_id = v.worker_id, host_id = v.host_id
               from unnest($1::text[], $2::text[], $3::text[]) as v(id, worker_id, host_id) where j.id = v.id
               returning j.worker_id)`,
          ],
          statement: `update ${s}.dispatch_workers set idle_since = null where id in (select worker_id from placed)`,
          params: [ids, data.map((d) => d.workerId), data.map((d) => d.hostId)],
        },
      ];
    }
    case 'job-started':
      return [
        statement(
          `update ${s}.dispatch_jobs j set state = 'running', started_at = v.at
           from unnest($1::text[], $2::timestamptz[]) as v(id, at) where j.id = v.id`,
          [ids, ats],
        ),
      ];
    case 'job-requeued':
      // In its old place in the queue, its startTimeout counted afresh from now.
      return [
        idleWhenLastLeft(
          `update ${s}.dispatch_jobs j set state = 'queued', worker_id = null, host_id = null,
             started_at = null, start_deadline = v.at + (j.start_deadline - j.submitted_at)
           from unnest($1::text[], $2::timestamptz[]) as v(id, at), ${s}.dispatch_jobs old
           where j.id = v.id and old.id = j.id returning j.id, old.worker_id, v.at`,
          [ids, ats],
        ),
      ];
    case 'job-cancel-requested':
      return [
        statement(`update ${s}.dispatch_jobs set state = 'cancelling' where id = any($1::text[])`, [ids]),
      ];
    case 'job-finished':
      // A finished job leaves the queue.
      return [
        idleWhenLastLeft(
          `delete from ${s}.dispatch_jobs j using unnest($1::text[], $2::timestamptz[]) as v(id, at)
           where j.id = v.id returning j.id, j.worker_id, v.at`,
          [ids, ats],
        ),
      ];
    case 'worker-requested': {
      const data = (run as Extract<WorkerEvent, { type: 'WorkerRequested' }>[]).map((e) => e.data);
      return [
        statement(
          `insert into ${s}.dispatch_workers
             (id, context, mode, host_id, incarnation, state, max_jobs, requested_at, idle_since)
           select v.id, v.context, v.mode, v.host_id, v.incarnation, 'starting', v.max_jobs, v.at, v.at
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[])
                as v(id, context, mode, host_id, incarnation, max_jobs, at)
           on conflict (id) do nothing`,
          [
            ids,
            data.map((d) => d.context),
            data.map((d) => d.mode),
            data.map((d) => d.hostId),
            data.map((d) => d.hostIncarnation),
            data.map((d) => d.maxJobs),
            ats,
          ],
        ),
      ];
    }
    case 'worker-started':
      return [
        statement(
          `update ${s}.dispatch_workers set state = 'running' where id = any($1::text[]) and state = 'starting'`,
          [ids],
        ),
      ];
    case 'worker-stop-requested':
      return [
        statement(`update ${s}.dispatch_workers set state = 'stopping' where id = any($1::text[])`, [ids]),
      ];
    case 'worker-stopped':
      return [statement(`delete from ${s}.dispatch_workers where id = any($1::text[])`, [ids])];
    case 'none':
      return [];
    default: {
      const unknownKind: never = kind;
      throw new Error(`unexpected dispatch kind ${String(unknownKind)}`);
    }
  }
}

function statement(sql: string, params: readonly unknown[]): StatementParts {
  return { with: [], statement: sql, params };
}

function upsertContext(name: string, settings: unknown): StatementParts {
  return statement(
    `insert into ${s}.dispatch_contexts (name, settings, deleted) values ($1, $2, false)
     on conflict (name) do update set settings = excluded.settings, deleted = false`,
    [name, JSON.stringify(settings)],
  );
}

// A worker becomes idle when its last job left it, at the time the last of them left: `leaving`
// (a delete or update returning the jobs that left: id, worker_id, at) and the workers' update in
// one statement (one round trip, not two). The statement's other parts see the table as it was
// before, so the jobs that left are left out of the look for jobs still on the worker.
function idleWhenLastLeft(leaving: string, params: readonly unknown[]): StatementParts {
  return {
    with: [
      `left_jobs as (${leaving})`,
      `latest as (select worker_id, max(at) as at from left_jobs where worker_id is not null group by worker_id)`,
    ],
    statement: `update ${s}.dispatch_workers w set idle_since = l.at from latest l
                where w.id = l.worker_id
                  and not exists (
                    select 1 from ${s}.dispatch_jobs j
                    where j.worker_id = w.id and not exists (select 1 from left_jobs g where g.id = j.id))`,
    params,
  };
}
