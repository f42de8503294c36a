import type { EntityManager } from 'typeorm';
import type { ContextEvent, EventEnvelope, JobEvent, WorkerEvent } from '@spindle/contracts';
import { returnedRows } from '@spindle/backbone';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// Keeps the dispatch tables true to the events just appended, inside the same transaction.
export async function applyDispatchState(
  manager: EntityManager,
  appended: readonly EventEnvelope[],
): Promise<void> {
  for (const envelope of appended) {
    const event = envelope as ContextEvent | JobEvent | WorkerEvent;
    const at = event.occurredAt;
    switch (event.type) {
      case 'ContextCreated':
      case 'ContextSettingsChanged':
        await manager.query(
          `insert into ${s}.dispatch_contexts (name, settings, deleted) values ($1, $2, false)
           on conflict (name) do update set settings = excluded.settings, deleted = false`,
          [event.data.name, JSON.stringify(event.data.settings)],
        );
        break;
      case 'ContextDeleted':
        await manager.query(`update ${s}.dispatch_contexts set deleted = true where name = $1`, [
          event.data.name,
        ]);
        break;
      case 'JobSubmitted': {
        const d = event.data;
        await manager.query(
          `insert into ${s}.dispatch_jobs (id, context, state, submitted_at, start_deadline, perform_timeout_ms)
           values ($1, $2, 'queued', $3, $3::timestamptz + make_interval(secs => $4::double precision / 1000), $5)`,
          [d.id, d.context, at, d.startTimeoutMs, d.performTimeoutMs],
        );
        break;
      }
      case 'JobAssigned':
        await manager.query(
          `update ${s}.dispatch_jobs set state = 'starting', worker_id = $2, host_id = $3 where id = $1`,
          [event.data.id, event.data.workerId, event.data.hostId],
        );
        await manager.query(`update ${s}.dispatch_workers set idle_since = null where id = $1`, [
          event.data.workerId,
        ]);
        break;
      case 'JobStarted':
        await manager.query(
          `update ${s}.dispatch_jobs set state = 'running', started_at = $2 where id = $1`,
          [event.data.id, at],
        );
        break;
      case 'JobRequeued': {
        // In its old place in the queue, its startTimeout counted afresh from now.
        const left = returnedRows(
          await manager.query(
            `update ${s}.dispatch_jobs j set state = 'queued', worker_id = null, host_id = null,
               started_at = null, start_deadline = $2::timestamptz + (j.start_deadline - j.submitted_at)
             from ${s}.dispatch_jobs old where j.id = $1 and old.id = j.id returning old.worker_id`,
            [event.data.id, at],
          ),
        ) as { worker_id: string | null }[];
        await markIdle(manager, left[0]?.worker_id ?? null, at);
        break;
      }
      case 'JobCancelRequested':
        await manager.query(`update ${s}.dispatch_jobs set state = 'cancelling' where id = $1`, [
          event.data.id,
        ]);
        break;
      case 'JobSucceeded':
      case 'JobFailed':
      case 'JobCancelled':
      case 'JobTimedOut': {
        // A finished job leaves the queue; its worker becomes idle when it was the last one there.
        const gone = returnedRows(
          await manager.query(`delete from ${s}.dispatch_jobs where id = $1 returning worker_id`, [
            event.data.id,
          ]),
        ) as { worker_id: string | null }[];
        await markIdle(manager, gone[0]?.worker_id ?? null, at);
        break;
      }
      case 'WorkerRequested': {
        const d = event.data;
        await manager.query(
          `insert into ${s}.dispatch_workers
             (id, context, mode, host_id, incarnation, state, max_jobs, requested_at, idle_since)
           values ($1, $2, $3, $4, $5, 'starting', $6, $7, $7) on conflict (id) do nothing`,
          [d.id, d.context, d.mode, d.hostId, d.hostIncarnation, d.maxJobs, at],
        );
        break;
      }
      case 'WorkerStarted':
        await manager.query(
          `update ${s}.dispatch_workers set state = 'running' where id = $1 and state = 'starting'`,
          [event.data.id],
        );
        break;
      case 'WorkerStopRequested':
        await manager.query(`update ${s}.dispatch_workers set state = 'stopping' where id = $1`, [
          event.data.id,
        ]);
        break;
      case 'WorkerStopped':
        await manager.query(`delete from ${s}.dispatch_workers where id = $1`, [event.data.id]);
        break;
      case 'WorkerPidChanged':
        break; // which process a worker runs in is no dispatch matter
      default:
        break; // functions: nothing to dispatch
    }
  }
}

// A worker becomes idle when its last job left it.
async function markIdle(manager: EntityManager, workerId: string | null, at: string): Promise<void> {
  if (!workerId) return;
  await manager.query(
    `update ${s}.dispatch_workers set idle_since = $2
     where id = $1 and not exists (select 1 from ${s}.dispatch_jobs where worker_id = $1)`,
    [workerId, at],
  );
}
