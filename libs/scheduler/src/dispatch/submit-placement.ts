import type { EntityManager } from 'typeorm';
import { ADVISORY_LOCK_CLASS } from '@spindle/backbone';
import type { ContextSettings } from '@spindle/contracts';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { planShared } from './placement';
import type { Placement, PoolWorker } from './placement';
import { placedJobsSql, poolWorkersSql } from './pool-sql';

const s = `"${SCHEDULER_SCHEMA}"`;

// Submitted jobs placed in the submit's own transaction, on the workers of their context's shared
// pool that have room: the job is assigned as it is recorded (JobSubmitted and JobAssigned in one
// commit), without waiting for a dispatcher pass woken by that commit, one transaction and one
// round of the outbox later. Only where the dispatcher would place it the same way at once: a
// shared context with no job already waiting (the queue stays first in, first out), under its
// maxJobs, on a worker of its pool with room, the oldest first (planShared). Starting a worker
// (a host's slot, an exclusive job's own) stays the dispatcher's.
//
// The dispatcher decides on what its pass read before the pass commits, and so does a submit: no
// two of them may place at once. Each pass holds the placement lock, and a submit that may place
// takes it for its transaction, waiting for a pass under way (a few milliseconds) or another
// submit's transaction, up to PLACEMENT_WAIT_MS (then its jobs wait queued for the dispatcher;
// see placement-lock.migration.ts for why the wait is bounded). Waiting, not trying: at 100
// jobs/s a submit that only tried found the lock taken often enough that most jobs, left queued,
// went the dispatcher's way after all (and each one queued held back the next: first in, first
// out).
const PLACEMENT_WAIT_MS = 250;

export interface SubmitContexts {
  readonly live: ReadonlySet<string>;
  // One of them may place a job now (shared, a worker in its pool, no job waiting).
  readonly mayPlace: boolean;
  // The placement lock is held for this transaction: placeOnSubmit may place.
  readonly placing: boolean;
}

// Which of the contexts named are live, and whether one of them may place a job now: shared, with
// a worker in its pool, no job waiting (placeOnSubmit reads the rest). In a transaction
// (`inTransaction`) the placement lock is taken in the same statement when one may; the lock is
// taken before placeOnSubmit reads the pools, in a statement of its own: a statement reads what was
// committed when it began, and a pass that committed after that and then let the lock go would go
// unseen. Out of one, the batch begins its transaction when one may place, and takes the lock then
// (takePlacementLock).
export async function readSubmitContexts(
  manager: EntityManager,
  names: readonly string[],
  inTransaction: boolean,
): Promise<SubmitContexts> {
  const rows: { name: string; may_place: boolean; placing: boolean }[] = await manager.query(
    `with live as (
       select c.name,
              c.settings->>'workerMode' = 'shared'
              and exists (select 1 from ${s}.dispatch_workers w
                          where w.context = c.name and w.mode = 'shared' and w.state in ('starting', 'running'))
              and not exists (select 1 from ${s}.dispatch_jobs j where j.context = c.name and j.state = 'queued')
                as may_place
       from ${s}.dispatch_contexts c where c.name = any($1::text[]) and not c.deleted),
     lock as materialized (select ${s}.placement_lock($2, $3) as held from live where may_place and $4 limit 1)
     select l.name, l.may_place, coalesce((select held from lock), false) as placing from live l`,
    [[...new Set(names)], ADVISORY_LOCK_CLASS.placement, PLACEMENT_WAIT_MS, inTransaction],
  );
  return {
    live: new Set(rows.map((r) => r.name)),
    mayPlace: rows.some((r) => r.may_place),
    placing: rows.some((r) => r.placing),
  };
}

// The placement lock for the rest of the transaction, waited for as readSubmitContexts does.
export async function takePlacementLock(manager: EntityManager): Promise<boolean> {
  const [row] = await manager.query<{ held: boolean }[]>(`select ${s}.placement_lock($1, $2) as held`, [
    ADVISORY_LOCK_CLASS.placement,
    PLACEMENT_WAIT_MS,
  ]);
  return row?.held === true;
}

// The submits (in the order submitted) that can be placed now, on which worker; call only with
// the placement lock held (readSubmitContexts).
export async function placeOnSubmit(
  manager: EntityManager,
  submits: readonly { readonly id: string; readonly context: string }[],
): Promise<Map<string, Placement>> {
  const placements = new Map<string, Placement>();
  if (submits.length === 0) return placements;
  const rooms: { context: string; settings: ContextSettings; placed: number; pool: PoolWorker[] }[] =
    await manager.query(
      `with rooms as (
         select c.name as context, c.settings from ${s}.dispatch_contexts c
         where c.name = any($1::text[]) and not c.deleted and c.settings->>'workerMode' = 'shared'
           and not exists (select 1 from ${s}.dispatch_jobs j where j.context = c.name and j.state = 'queued')),
       pools as (${poolWorkersSql('select context from rooms')}),
       placed as (${placedJobsSql('select context from rooms')})
       select r.context, r.settings, coalesce(n.placed, 0) as placed,
              coalesce((select json_agg(json_build_object('id', p.id, 'hostId', p.host_id, 'free', p.free)
                                        order by p.requested_at, p.id)
                        from pools p where p.context = r.context and p.free > 0), '[]') as pool
       from rooms r left join placed n on n.context = r.context`,
      [[...new Set(submits.map((j) => j.context))]],
    );
  for (const { context, settings, placed, pool } of rooms) {
    const queued = submits.filter((j) => j.context === context).map((j) => j.id);
    // No host slots offered: a submit never starts a worker.
    const plan = planShared(context, settings, queued, placed, pool, [], () => {
      throw new Error('a submit starts no worker');
    });
    for (const placement of plan.placements) placements.set(placement.jobId, placement);
  }
  return placements;
}
