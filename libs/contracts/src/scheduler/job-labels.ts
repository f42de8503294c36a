import { z } from 'zod';
import { clusterNameSchema } from './cluster-definition';

export const JOB_NAME_MAX = 256;
export const JOB_TAGS_MAX = 50;
export const JOB_TAG_KEY_MAX = 128;
export const JOB_TAG_VALUE_MAX = 1_024;

export const jobTagsSchema = z
  .record(z.string().min(1).max(JOB_TAG_KEY_MAX), z.string().max(JOB_TAG_VALUE_MAX))
  .refine((tags) => Object.keys(tags).length <= JOB_TAGS_MAX, `at most ${JOB_TAGS_MAX} tags`);
export type JobTags = z.infer<typeof jobTagsSchema>;

// What a job is called and where it runs, beside its function: given by APIs whose jobs have them
// (Ilum's single jobs: a name, the cluster they were sent to, tags). Optional, additive fields of
// `submit-job` and `JobSubmitted@1`; a job without them ran on no named cluster.
export const jobLabelShape = {
  name: z.string().min(1).max(JOB_NAME_MAX).optional(),
  cluster: clusterNameSchema.optional(),
  tags: jobTagsSchema.optional(),
};
