import { foldServiceJob, isServiceJobEvent, serviceJobStatusOf } from '@spindle/contracts';
import type { EntityManager } from 'typeorm';
import type { SpindleEvent } from '@spindle/contracts';
import { NOTIFY_CHANNELS, streamProjection } from '@spindle/backbone';
import type { StreamProjection } from '@spindle/backbone';
import { PROJECTOR_SCHEMA, READ_MODEL_SOURCES, ServiceJobView } from '@spindle/read-models';

// The row holds the job folded with the owner's own fold (one definition of counts and summaries).
export function evolveServiceJobView(row: ServiceJobView | null, event: SpindleEvent): ServiceJobView | null {
  if (!isServiceJobEvent(event)) throw new Error(`unexpected ${event.type} for the service jobs read model`);
  const job = foldServiceJob(row?.job ?? null, event);
  if (!job) return null;
  const at = new Date(event.occurredAt);
  return Object.assign(new ServiceJobView(), {
    streamId: event.streamId,
    streamPosition: event.streamPosition,
    name: job.name,
    status: serviceJobStatusOf(job),
    job,
    createdAt: new Date(job.createdAt),
    updatedAt: at,
    deletedAt: job.deleted ? at : null,
  });
}

const rows = streamProjection<ServiceJobView>({
  name: READ_MODEL_SOURCES.serviceJobs.consumer,
  topics: [READ_MODEL_SOURCES.serviceJobs.topic],
  entity: ServiceJobView,
  evolve: evolveServiceJobView,
});

// Raises the change index in the transaction that changed the rows, and notifies it: Postgres
// delivers the notification when the transaction commits, so a long poll woken by it reads the new
// rows. A rebuild's swap changes them all at once, and raises it too.
async function raiseChangeIndex(manager: EntityManager): Promise<void> {
  await manager.query(
    `with raised as (update "${PROJECTOR_SCHEMA}".service_jobs_v1_index set value = value + 1 returning value)
     select pg_notify($1, value::text) from raised`,
    [NOTIFY_CHANNELS.serviceJobs],
  );
}

// In a transaction of the runner's (no `writes`): the index is raised with the rows.
export const serviceJobsProjection: StreamProjection<ServiceJobView> = {
  ...rows,
  writes: undefined,
  async handle(events, manager): Promise<void> {
    await rows.handle(events, manager);
    await raiseChangeIndex(manager);
  },
  afterRebuild: raiseChangeIndex,
};
