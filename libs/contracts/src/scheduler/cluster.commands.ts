import { z } from 'zod';
import {
  CLUSTER_ID_PATTERN,
  CLUSTER_TYPES,
  clusterDefinitionSchema,
  clusterNameSchema,
} from './cluster-definition';

const metadata = {
  correlationId: z.string().min(1).max(200),
  issuedAt: z.iso.datetime({ offset: true }),
  idempotencyKey: z.string().min(1).max(255).optional(),
};

export const createClusterCommandSchema = z.object({
  ...metadata,
  id: z.string().regex(CLUSTER_ID_PATTERN),
  name: clusterNameSchema,
  type: z.enum(CLUSTER_TYPES),
  definition: clusterDefinitionSchema,
  secretId: z.string().nullable(),
  secretFields: z.array(z.string().max(300)).max(200),
});
export type CreateClusterCommand = z.infer<typeof createClusterCommandSchema>;

export const deleteClusterCommandSchema = z.object({
  ...metadata,
  name: clusterNameSchema,
});
export type DeleteClusterCommand = z.infer<typeof deleteClusterCommandSchema>;
