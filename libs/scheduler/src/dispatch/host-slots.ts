import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// Whether the host `h` is taken for alive: heard within the silence it is allowed (its heard_until,
// set from HOST_SILENCE_LIMIT_MS and how often the host says it beats: recordHeartbeats in the
// backbone). Every reader of the hosts asks this, the same way.
export const HOST_HEARD_SQL = 'h.heard_until >= now()';

// A host's free slots, as an SQL expression over `hosts h`: its WORKER_SLOTS less its workers and
// less the MapReduce task attempts placed on it and not ended. The dispatcher (workers) and the
// MapReduce supervisor (attempts) place by the same count, so neither overfills a host the other
// is using.
export const FREE_SLOTS_SQL = `(h.slots - (select count(*) from ${s}.dispatch_workers w where w.host_id = h.id)
  - (select count(*) from ${s}.mapreduce_tasks t where t.open and t.host_id = h.id))::int`;
