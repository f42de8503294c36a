import { z } from 'zod';
import { commandMetadataShape } from '../command-metadata';
import { MAPREDUCE_PROTOCOLS } from './mapreduce-protocols';
import { MAPREDUCE_JOB_ID_PATTERN } from './mapreduce-job.events';

const program = z.object({ artifact: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

// A MapReduce job as the gateway checked it (storage URLs against SPINDLE_STORAGE_ALLOW, programs
// resolved to their content hash, credentials stored as secrets and named by id).
export const submitMapReduceJobCommandSchema = z.object({
  ...commandMetadataShape,
  id: z.string().regex(MAPREDUCE_JOB_ID_PATTERN),
  protocol: z.enum(MAPREDUCE_PROTOCOLS),
  inputPath: z.string().url(),
  outputPath: z.string().url(),
  nReducers: z.number().int().min(0).max(1000),
  splitSize: z.number().int().positive(),
  taskTimeoutMs: z.number().int().positive(),
  mapper: program,
  reducer: program.nullable(),
  inputSecretId: z.string().nullable(),
  outputSecretId: z.string().nullable(),
});
export type SubmitMapReduceJobCommand = z.infer<typeof submitMapReduceJobCommandSchema>;

export const stopMapReduceJobCommandSchema = z.object({
  ...commandMetadataShape,
  id: z.string().regex(MAPREDUCE_JOB_ID_PATTERN),
  reason: z.string().min(1).max(500),
});
export type StopMapReduceJobCommand = z.infer<typeof stopMapReduceJobCommandSchema>;

// A MapReduce job's storage credentials are a secret with these two keys (the native API names an
// existing secret; Apollo's gateway stores the credentials it was given as one).
export const MAPREDUCE_SECRET_KEYS = {
  accessKeyId: 'ACCESS_KEY_ID',
  secretAccessKey: 'SECRET_ACCESS_KEY',
} as const;
