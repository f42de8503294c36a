import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { HOST_HEARD_SQL } from './host-slots';

const s = `"${SCHEDULER_SCHEMA}"`;

// What the dispatcher's pass and a submit's own placement (submit-placement.ts) read the same way,
// as SQL over a set of context names (`contexts`: an SQL set expression).

// The shared workers of those contexts' pools that can take jobs (starting or running, on a host
// that still answers as the same incarnation), with the jobs each can still take.
export const poolWorkersSql = (contexts: string): string =>
  `select w.id, w.context, w.host_id, w.requested_at, w.max_jobs - count(j.id)::int as free
   from ${s}.dispatch_workers w
   join ${s}.hosts h on h.id = w.host_id and h.incarnation = w.incarnation
   left join ${s}.dispatch_jobs j on j.worker_id = w.id
   where w.context in (${contexts}) and w.mode = 'shared'
     and w.state in ('starting', 'running')
     and ${HOST_HEARD_SQL}
   group by w.id, w.context, w.host_id, w.max_jobs, w.requested_at`;

// How many of each of those contexts' jobs are placed (on a worker, not queued): maxJobs bounds it.
export const placedJobsSql = (contexts: string): string =>
  `select context, count(*)::int as placed from ${s}.dispatch_jobs
   where context in (${contexts}) and state <> 'queued'
   group by context`;
