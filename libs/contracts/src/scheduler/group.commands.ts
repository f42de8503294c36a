import { z } from 'zod';
import { commandMetadataShape } from '../command-metadata';
import {
  GROUP_ID_PATTERN,
  groupDefinitionSchema,
  groupNameSchema,
  groupScaleSchema,
} from './group-definition';

export const createGroupCommandSchema = z.object({
  ...commandMetadataShape,
  id: z.string().regex(GROUP_ID_PATTERN),
  name: groupNameSchema,
  scale: groupScaleSchema,
  definition: groupDefinitionSchema,
});
export type CreateGroupCommand = z.infer<typeof createGroupCommandSchema>;

export const rescaleGroupCommandSchema = z.object({
  ...commandMetadataShape,
  name: groupNameSchema,
  scale: groupScaleSchema,
});
export type RescaleGroupCommand = z.infer<typeof rescaleGroupCommandSchema>;

// Stop (archive) and delete name only the group.
export const groupNameCommandSchema = z.object({
  ...commandMetadataShape,
  name: groupNameSchema,
});
export type GroupNameCommand = z.infer<typeof groupNameCommandSchema>;
