import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { MAPREDUCE_PROTOCOLS } from './mapreduce-protocols';

// A MapReduce job: one stream `mapreduce-job-<id>` on spindle.scheduler.mapreduce-job.v1, owned
// by the scheduler. Its tasks (`<id>-m-<i>`, `<id>-r-<i>`) are recorded in the job's own stream,
// so the job and its tasks change together and in order. States: running → succeeded | failed |
// stopped (stopping between a stop request and the tasks' end).
export const MAPREDUCE_JOB_STATES = ['running', 'stopping', 'succeeded', 'failed', 'stopped'] as const;
export type MapReduceJobState = (typeof MAPREDUCE_JOB_STATES)[number];
export const MAPREDUCE_TASK_STATES = ['scheduled', 'in-progress', 'completed', 'failed', 'stopped'] as const;
export type MapReduceTaskState = (typeof MAPREDUCE_TASK_STATES)[number];

export function mapReduceJobStreamId(id: string): string {
  return `mapreduce-job-${id}`;
}

const id = z.string().min(1).max(128);
const taskId = z.string().min(1).max(160);
const program = z.object({ artifact: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const mapReduceJobEventDataSchemas = {
  // Storage URLs were checked against SPINDLE_STORAGE_ALLOW; credentials are secrets, named here
  // by id only.
  'MapReduceJobSubmitted@1': z.object({
    id,
    protocol: z.enum(MAPREDUCE_PROTOCOLS),
    inputPath: z.string().url(),
    outputPath: z.string().url(),
    nReducers: z.number().int().min(0),
    splitSize: z.number().int().positive(),
    taskTimeoutMs: z.number().int().positive(),
    mapper: program,
    reducer: program.nullable(), // null: map-only
    inputSecretId: z.string().nullable(),
    outputSecretId: z.string().nullable(),
  }),
  // The input as split: one map task per range.
  'MapReduceJobPlanned@1': z.object({
    id,
    maps: z.array(
      z.object({ key: z.string(), start: z.number().int().min(0), end: z.number().int().min(0) }),
    ),
    reducers: z.number().int().min(0),
  }),
  'MapReduceTaskStarted@1': z.object({
    id,
    taskId,
    kind: z.enum(['mapper', 'reducer']),
    attempt: z.number().int().positive(),
  }),
  'MapReduceTaskSucceeded@1': z.object({ id, taskId, attempt: z.number().int().positive() }),
  // retried: another attempt follows; else the job fails.
  'MapReduceTaskFailed@1': z.object({
    id,
    taskId,
    attempt: z.number().int().positive(),
    error: z.string(),
    retried: z.boolean(),
  }),
  'MapReduceTaskStopped@1': z.object({ id, taskId, attempt: z.number().int().positive() }),
  'MapReduceJobStopRequested@1': z.object({ id, reason: z.string() }),
  'MapReduceJobSucceeded@1': z.object({ id }),
  'MapReduceJobFailed@1': z.object({ id, error: z.string() }),
  'MapReduceJobStopped@1': z.object({ id, reason: z.string() }),
} as const;

type Schemas = typeof mapReduceJobEventDataSchemas;
export type MapReduceJobSubmittedV1 = EventData<Schemas['MapReduceJobSubmitted@1']>;
export type MapReduceJobEvent = EventsOf<Schemas>;
export const isMapReduceJobEvent = isEventOf(mapReduceJobEventDataSchemas);
