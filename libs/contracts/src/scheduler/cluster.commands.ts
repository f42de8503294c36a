import { z } from 'zod';
import { commandMetadataShape } from '../command-metadata';
import {
  CLUSTER_ID_PATTERN,
  CLUSTER_TYPES,
  clusterDefinitionSchema,
  clusterNameSchema,
} from './cluster-definition';

export const createClusterCommandSchema = z.object({
  ...commandMetadataShape,
  id: z.string().regex(CLUSTER_ID_PATTERN),
  name: clusterNameSchema,
  type: z.enum(CLUSTER_TYPES),
  definition: clusterDefinitionSchema,
  secretId: z.string().nullable(),
  secretFields: z.array(z.string().max(300)).max(200),
});
export type CreateClusterCommand = z.infer<typeof createClusterCommandSchema>;

export const deleteClusterCommandSchema = z.object({
  ...commandMetadataShape,
  name: clusterNameSchema,
});
export type DeleteClusterCommand = z.infer<typeof deleteClusterCommandSchema>;
