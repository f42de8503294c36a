import type { EntityManager } from 'typeorm';
import { jsonbElements } from '@spindle/backbone';
import { foldServiceJob, isServiceJobEvent } from '@spindle/contracts';
import type { ServiceJobStatus, SpindleEvent } from '@spindle/contracts';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// Keeps `service_jobs` (each service job folded, as its decider sees it) true to the events just
// appended, in the same transaction, so the supervisor reads every job's state in one query instead
// of replaying streams that grow with every restart. A deleted job leaves once its last instance ended.
export async function applyServiceJobState(
  manager: EntityManager,
  appended: readonly SpindleEvent[],
): Promise<void> {
  const events = appended.filter(isServiceJobEvent);
  if (events.length === 0) return;
  const names = [...new Set(events.map((e) => e.data.name))];
  const rows: { name: string; status: ServiceJobStatus }[] = await manager.query(
    `select name, status from ${s}.service_jobs where name = any($1::text[]) for update`,
    [names],
  );
  const folded = new Map<string, ServiceJobStatus | null>(rows.map((r) => [r.name, r.status]));
  for (const event of events)
    folded.set(event.data.name, foldServiceJob(folded.get(event.data.name) ?? null, event));
  const kept = [...folded].filter(
    (entry): entry is [string, ServiceJobStatus] =>
      entry[1] !== null && !(entry[1].deleted && entry[1].allocations.length === 0),
  );
  await manager.query(`delete from ${s}.service_jobs where name = any($1::text[])`, [names]);
  if (kept.length === 0) return;
  await manager.query(
    `insert into ${s}.service_jobs (name, status) select * from unnest($1::text[], ${jsonbElements('$2')})`,
    [kept.map(([name]) => name), JSON.stringify(kept.map(([, status]) => status))],
  );
}
