import { z } from 'zod';
import { commandMetadataShape, expectedVersionShape } from '../command-metadata';
import {
  SERVICE_COUNT_MAX,
  serviceJobNameSchema,
  serviceTaskGroupSchema,
  TASK_GROUPS_MAX,
} from './service-job.events';

// Gateway → scheduler. The gateway resolved each group's function to its program in the read
// models, as for a job submit; the scheduler checks the counts and names again.
export const createServiceJobCommandSchema = z.object({
  ...commandMetadataShape,
  name: serviceJobNameSchema,
  taskGroups: z.array(serviceTaskGroupSchema).min(1).max(TASK_GROUPS_MAX),
});
export type CreateServiceJobCommand = z.infer<typeof createServiceJobCommandSchema>;

const byName = { ...commandMetadataShape, ...expectedVersionShape, name: serviceJobNameSchema };
export const startServiceJobCommandSchema = z.object(byName);
export const stopServiceJobCommandSchema = z.object(byName);
export const deleteServiceJobCommandSchema = z.object(byName);
export type ServiceJobByNameCommand = z.infer<typeof startServiceJobCommandSchema>;

// A group's count: absolute (the native API) or a change of it (`delta`, Genvid's updatecounts:
// clamped to [0, countMax], and a delta of 0 stops the group).
export const scaleServiceJobCommandSchema = z.object({
  ...byName,
  taskGroup: serviceJobNameSchema,
  mode: z.enum(['absolute', 'delta']),
  count: z.number().int().min(-SERVICE_COUNT_MAX).max(SERVICE_COUNT_MAX),
});
export type ScaleServiceJobCommand = z.infer<typeof scaleServiceJobCommandSchema>;
