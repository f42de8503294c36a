import type { StreamProjection } from '@spindle/backbone';
import { artifactsProjection } from '../projections/artifacts/artifacts.projection';
import { clustersProjection } from '../projections/clusters/clusters.projection';
import { contextsProjection } from '../projections/contexts/contexts.projection';
import { groupsProjection } from '../projections/groups/groups.projection';
import { functionsProjection } from '../projections/functions/functions.projection';
import { jobRowsProjection } from '../projections/jobs/jobs.projection';
import { settingsProjection } from '../projections/settings/settings.projection';
import { serviceJobsProjection } from '../projections/service-jobs/service-jobs.projection';
import { clusterConfigProjection } from '../projections/cluster-config/cluster-config.projection';
import { apiKeysProjection } from '../projections/api-keys/api-keys.projection';
import { mapReduceJobsProjection } from '../projections/mapreduce/mapreduce-jobs.projection';
import { workerRowsProjection } from '../projections/workers/workers.projection';

// The read models a rebuild can replay from the owners' event stores. The change feed is not
// among them: it is an append-only log of what was delivered, keyed by event id, and keeps its
// entries; hosts come from heartbeats, which no event store records.
export const REBUILDABLE_PROJECTIONS: readonly StreamProjection[] = [
  contextsProjection,
  artifactsProjection,
  functionsProjection,
  jobRowsProjection,
  workerRowsProjection,
  clustersProjection,
  groupsProjection,
  settingsProjection,
  serviceJobsProjection,
  clusterConfigProjection,
  apiKeysProjection,
  mapReduceJobsProjection,
];

// By its full name (`projector.jobs.v1`) or its short one (`jobs`).
export function rebuildableProjection(name: string): StreamProjection {
  const found = REBUILDABLE_PROJECTIONS.find((p) => p.name === name || p.name === `projector.${name}.v1`);
  if (!found) {
    const names = REBUILDABLE_PROJECTIONS.map((p) => p.name.replace(/^projector\.|\.v1$/g, ''));
    throw new Error(`no rebuildable projection named "${name}"; one of: ${names.join(', ')}`);
  }
  return found;
}
