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

// Ids are `j-<uuid>`, Apollo's form, on the native API too: one id scheme for the job kind.
export const MAPREDUCE_JOB_ID_PATTERN = /^j-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Attempts a task gets (the first and 3 retries, Hadoop's maxattempts): the engine retries a failed
// attempt below it, and the scheduler counts a lost host's attempt against it too.
export const MAPREDUCE_TASK_MAX_ATTEMPTS = 4;

export function mapReduceJobStreamId(id: string): string {
  return `mapreduce-job-${id}`;
}

// The log-collector's key for one attempt of a task: every attempt (and every run of the job) has
// a log of its own, numbered from its first line.
export function mapReduceTaskLogId(taskId: string, run: number, attempt: number): string {
  return `${taskId}@${run}.${attempt}`;
}

const id = z.string().min(1).max(128);
const run = z.number().int().positive();
const taskId = z.string().min(1).max(160);
const program = z.object({ artifact: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const mapReduceJobDefinitionSchema = z.object({
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
});

export const mapReduceJobEventDataSchemas = {
  // Storage URLs were checked against SPINDLE_STORAGE_ALLOW; credentials are secrets, named here
  // by id only.
  'MapReduceJobSubmitted@1': mapReduceJobDefinitionSchema,
  // The job's coordinator (the engine's MapReduceRun) placed on a worker host by the scheduler's
  // MapReduce supervisor. run counts placements: a host lost mid-job places the job again with the
  // next run, every task starts over, and reports of an earlier run are ignored. The definition
  // travels with it so any host can run it.
  'MapReduceJobAssigned@1': z.object({
    id,
    run,
    hostId: z.string().min(1),
    incarnation: z.string().min(1),
    reason: z.string(),
    job: mapReduceJobDefinitionSchema,
  }),
  // The input as split: one map task per range.
  'MapReduceJobPlanned@1': z.object({
    id,
    maps: z.array(
      z.object({ key: z.string(), start: z.number().int().min(0), end: z.number().int().min(0) }),
    ),
    reducers: z.number().int().min(0),
  }),
  // The coordinator wants this attempt of a task run (the first, or a retry): the supervisor
  // places it on a live host with a free slot (MapReduceTaskAssigned).
  'MapReduceTaskReady@1': z.object({
    id,
    run,
    taskId,
    kind: z.enum(['mapper', 'reducer']),
    attempt: z.number().int().positive(),
  }),
  // The host (and its agent run) that runs the attempt: a job's tasks spread over every live host.
  // That host knows the job from MapReduceJobAssigned and its splits from MapReduceJobPlanned on
  // this stream, and fetches the credentials itself.
  'MapReduceTaskAssigned@1': z.object({
    id,
    run,
    taskId,
    kind: z.enum(['mapper', 'reducer']),
    attempt: z.number().int().positive(),
    hostId: z.string().min(1),
    incarnation: z.string().min(1),
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
export type MapReduceJobAssignedV1 = EventData<Schemas['MapReduceJobAssigned@1']>;
export type MapReduceJobSubmittedV1 = EventData<Schemas['MapReduceJobSubmitted@1']>;
export type MapReduceJobPlannedV1 = EventData<Schemas['MapReduceJobPlanned@1']>;
export type MapReduceTaskAssignedV1 = EventData<Schemas['MapReduceTaskAssigned@1']>;
export type MapReduceJobEvent = EventsOf<Schemas>;
export const isMapReduceJobEvent = isEventOf(mapReduceJobEventDataSchemas);
