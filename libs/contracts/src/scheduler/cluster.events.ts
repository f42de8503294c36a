import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { CLUSTER_TYPES, clusterDefinitionSchema } from './cluster-definition';

const clusterCreated = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(CLUSTER_TYPES),
  definition: clusterDefinitionSchema,
  // The secret holding its credentials (null when it has none), and where each one was given.
  secretId: z.string().nullable(),
  secretFields: z.array(z.string()),
});

export const clusterEventDataSchemas = {
  'ClusterCreated@1': clusterCreated,
  'ClusterDeleted@1': z.object({ id: z.string(), name: z.string() }),
} as const;

type Schemas = typeof clusterEventDataSchemas;
export type ClusterCreatedV1 = EventData<Schemas['ClusterCreated@1']>;
export type ClusterDeletedV1 = EventData<Schemas['ClusterDeleted@1']>;

// Everything that can happen to a cluster definition, on topic spindle.scheduler.cluster.v1.
export type ClusterEvent = EventsOf<Schemas>;
export const isClusterEvent = isEventOf(clusterEventDataSchemas);
