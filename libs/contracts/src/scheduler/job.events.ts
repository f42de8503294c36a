import { z } from 'zod';
import { commandMetadataShape } from '../command-metadata';
import { isEventOf, isEventTypeOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { ARTIFACT_NAME_PATTERN } from '../artifacts/artifact.events';
import { logTotalsSchema } from '../logs/log-records';
import { timeoutMsSchema } from './durations';
import { FUNCTION_LIBRARIES_MAX, FUNCTION_RETRIES_MAX, RUNTIMES } from './function.events';
import { secretRefsSchema } from '../secrets/secret-refs';
import { jobLabelShape } from './job-labels';

// One closed set of job states. queued → starting (placed on a worker) → running (its process
// took it) → succeeded | failed | timed_out; cancel moves queued straight to cancelled, and a
// placed job through cancelling to cancelled. A placed job whose host died goes back to queued
// when its function allows a retry.
export const JOB_STATES = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'cancelling',
  'cancelled',
  'timed_out',
] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINISHED_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];
// Placed on a worker and not finished: what holds a worker's slot.
export const PLACED_JOB_STATES: readonly JobState[] = ['starting', 'running', 'cancelling'];
// Not finished: waiting in a queue or placed.
export const UNFINISHED_JOB_STATES: readonly JobState[] = ['queued', ...PLACED_JOB_STATES];

export function jobStreamId(id: string): string {
  return `job-${id}`;
}

// Why a placed job failed when its worker host stopped responding: one spelling, so that a
// consumer can tell a lost host from a failed process (service jobs count such instances as lost).
export function hostLostReason(hostId: string): string {
  return `worker host ${hostId} stopped responding`;
}
export const HOST_LOST_REASON = /^worker host .+ stopped responding$/;

export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const EXTERNAL_ID_MAX = 256;

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

// A library of the job's function as of the submit: its content hash, and the name it has on the
// program's path.
export const jobLibrarySchema = z.object({
  artifact: z.string().min(1),
  sha256: sha256Schema,
  // A plain file name: the worker joins it to the program's directory.
  fileName: z.string().regex(ARTIFACT_NAME_PATTERN),
});
export type JobLibrary = z.infer<typeof jobLibrarySchema>;

// What runs: fixed at submit, so a function changed later does not change a queued job.
export const jobProgramSchema = z.object({
  artifact: z.string().min(1),
  sha256: sha256Schema,
  entrypoint: z.string().max(512),
  runtime: z.enum(RUNTIMES),
  // Absent when the function has none (and in jobs submitted before libraries).
  libraries: z.array(jobLibrarySchema).max(FUNCTION_LIBRARIES_MAX).optional(),
});
export type JobProgram = z.infer<typeof jobProgramSchema>;

export const jobArgsSchema = z.record(z.string(), z.unknown());

// Where a job's submit came in: `http` for a request to any HTTP API (the native one or a
// dialect's), `kafka` for a start request read from a Kafka topic and `mqtt` for one read from an
// MQTT topic (Mist's async interface). A closed set; a new member is a contract change, so
// consumers are deployed before producers (`mqtt` was added after the others).
export const JOB_SOURCES = ['http', 'kafka', 'mqtt'] as const;
export type JobSource = (typeof JOB_SOURCES)[number];

const id = z.string().regex(JOB_ID_PATTERN);
const ended = { id, log: logTotalsSchema.nullable() }; // log: null when no process ran it

// What a worker agent needs to run the job, carried on the assignment so that the agent keeps no
// copy of the job streams.
export const jobTaskSchema = z.object({
  function: z.string(),
  context: z.string(),
  args: jobArgsSchema,
  program: jobProgramSchema,
  performTimeoutMs: z.number().int().positive().nullable(),
  // Resolved by the worker agent from the secrets service when the task starts (absent: none).
  secrets: secretRefsSchema.optional(),
});
export type JobTask = EventData<typeof jobTaskSchema>;

export const jobEventDataSchemas = {
  'JobSubmitted@1': z.object({
    id,
    function: z.string(),
    context: z.string(),
    args: jobArgsSchema,
    program: jobProgramSchema,
    externalId: z.string().max(EXTERNAL_ID_MAX).nullable(),
    startTimeoutMs: z.number().int().positive().nullable(),
    performTimeoutMs: z.number().int().positive().nullable(),
    source: z.enum(JOB_SOURCES).optional(), // absent in events recorded before sources were kept
    // The function's retry policy when the job was submitted (absent: 0, no retry).
    retries: z.number().int().min(0).max(FUNCTION_RETRIES_MAX).optional(),
    secrets: secretRefsSchema.optional(),
    ...jobLabelShape, // absent for jobs that were given none
  }),
  'JobAssigned@1': z.object({ id, workerId: z.string(), hostId: z.string(), task: jobTaskSchema }),
  'JobStarted@1': z.object({ id, workerId: z.string(), pid: z.number().int() }),
  // Its worker host died under it and its function allows another attempt: back in its queue, in
  // its place, to run again from the start.
  'JobRequeued@1': z.object({
    id,
    attempt: z.number().int().min(2), // the coming one: 2 for the first retry
    reason: z.string(),
    workerId: z.string(), // where the lost attempt ran
  }),
  'JobCancelRequested@1': z.object({ id, workerId: z.string(), hostId: z.string() }),
  'JobSucceeded@1': z.object({ ...ended, result: z.unknown() }),
  'JobFailed@1': z.object({ ...ended, error: z.string() }),
  'JobCancelled@1': z.object({ ...ended, reason: z.string() }),
  'JobTimedOut@1': z.object({ ...ended, phase: z.enum(['start', 'perform']) }),
  // An ended job its client asked to forget (Ilum's `DELETE /job/{id}`): its events stay, and the
  // read model keeps a tombstone, which the APIs that delete jobs no longer list.
  'JobDeleted@1': z.object({ id }),
} as const;

type Schemas = typeof jobEventDataSchemas;
export type JobSubmittedV1 = EventData<Schemas['JobSubmitted@1']>;
export type JobAssignedV1 = EventData<Schemas['JobAssigned@1']>;
export type JobStartedV1 = EventData<Schemas['JobStarted@1']>;
export type JobRequeuedV1 = EventData<Schemas['JobRequeued@1']>;
export type JobCancelRequestedV1 = EventData<Schemas['JobCancelRequested@1']>;
export type JobSucceededV1 = EventData<Schemas['JobSucceeded@1']>;
export type JobFailedV1 = EventData<Schemas['JobFailed@1']>;
export type JobCancelledV1 = EventData<Schemas['JobCancelled@1']>;
export type JobTimedOutV1 = EventData<Schemas['JobTimedOut@1']>;
export type JobDeletedV1 = EventData<Schemas['JobDeleted@1']>;

// On topic spindle.scheduler.job.v1, streams job-<id>.
export type JobEvent = EventsOf<Schemas>;
export const isJobEvent = isEventOf(jobEventDataSchemas);
export const isJobEventType = isEventTypeOf(jobEventDataSchemas);

// Gateway → scheduler. The gateway resolved the function and context in the read models; the
// scheduler checks again against its own streams before it accepts.
export const submitJobCommandSchema = z.object({
  ...commandMetadataShape,
  id,
  function: z.string().min(1),
  context: z.string().min(1).optional(),
  args: jobArgsSchema,
  // The artifact the gateway found behind the function, and its content hash: the job runs exactly
  // this content even if the function or artifact changes while it waits.
  artifact: z.string().min(1),
  artifactSha256: sha256Schema,
  // The same for each of the function's libraries, in the function's order (absent: none).
  libraries: z
    .array(z.object({ artifact: z.string().min(1), sha256: sha256Schema }))
    .max(FUNCTION_LIBRARIES_MAX)
    .optional(),
  externalId: z.string().min(1).max(EXTERNAL_ID_MAX).optional(),
  // At most MAX_DURATION_MS: the events keep their recorded schema, no new job gets a longer one.
  startTimeoutMs: timeoutMsSchema.optional(),
  performTimeoutMs: timeoutMsSchema.optional(),
  source: z.enum(JOB_SOURCES).optional(),
  // Secrets for this job, added to its function's.
  secrets: secretRefsSchema.optional(),
  ...jobLabelShape,
});
export type SubmitJobCommand = z.infer<typeof submitJobCommandSchema>;

export const cancelJobCommandSchema = z.object({ ...commandMetadataShape, id });
export type CancelJobCommand = z.infer<typeof cancelJobCommandSchema>;

// Forgets an ended job (a job that has not ended is a conflict: stop it first).
export const deleteJobCommandSchema = z.object({ ...commandMetadataShape, id });
export type DeleteJobCommand = z.infer<typeof deleteJobCommandSchema>;
