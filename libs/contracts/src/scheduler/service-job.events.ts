import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { secretRefsSchema } from '../secrets/secret-refs';
import { jobArgsSchema, jobProgramSchema, JOB_ID_PATTERN } from './job.events';

// A service job (Nomad's model under Genvid's API): task groups, each running `count` instances
// (allocations) of a long-running function. Streams `service-job-<name>`; the Genvid job id is the name.
export const SERVICE_JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const serviceJobNameSchema = z.string().regex(SERVICE_JOB_NAME_PATTERN);
export const TASK_GROUPS_MAX = 20;
// Instances per group: what one installation's worker hosts can sensibly run of one group.
export const SERVICE_COUNT_MAX = 100;

export function serviceJobStreamId(name: string): string {
  return `service-job-${name}`;
}

export const serviceCountSchema = z.number().int().min(0).max(SERVICE_COUNT_MAX);

// A task group as recorded: its function resolved to the exact program, as a job submit does, so a
// function changed later does not change the instances of a running service.
export const serviceTaskGroupSchema = z.object({
  name: serviceJobNameSchema,
  function: z.string().min(1),
  context: z.string().min(1),
  args: jobArgsSchema,
  program: jobProgramSchema,
  countInit: serviceCountSchema,
  countMax: serviceCountSchema,
  // The secrets every instance's process gets (the function's and the group's own, merged when the
  // job was defined): references only, resolved by the worker when each instance starts, as for a
  // job. Absent in groups recorded before: none.
  secrets: secretRefsSchema.optional(),
});
export type ServiceTaskGroup = z.infer<typeof serviceTaskGroupSchema>;

// How an instance ended: `complete` (its process exited 0, or it was stopped), `failed` (its
// process failed, timed out or was killed), `lost` (its worker host stopped responding).
export const ALLOCATION_OUTCOMES = ['complete', 'failed', 'lost'] as const;
export type AllocationOutcome = (typeof ALLOCATION_OUTCOMES)[number];
// A live instance: queued (waiting for a worker), starting (placed), running (its process runs).
export const ALLOCATION_STATES = ['queued', 'starting', 'running'] as const;
export type AllocationState = (typeof ALLOCATION_STATES)[number];

const name = serviceJobNameSchema;
// An allocation's id is the id of the job that runs it (its logs are that job's logs).
const allocId = z.string().regex(JOB_ID_PATTERN);

export const serviceJobEventDataSchemas = {
  'ServiceJobCreated@1': z.object({ name, taskGroups: z.array(serviceTaskGroupSchema).min(1) }),
  // Every group's count set to its countInit.
  'ServiceJobStarted@1': z.object({ name }),
  // Every group's count set to 0: its instances are stopped.
  'ServiceJobStopped@1': z.object({ name }),
  'ServiceJobCountSet@1': z.object({ name, taskGroup: serviceJobNameSchema, count: serviceCountSchema }),
  'ServiceJobDeleted@1': z.object({ name }),
  'AllocationPlaced@1': z.object({ name, taskGroup: serviceJobNameSchema, allocId }),
  'AllocationChanged@1': z.object({ name, allocId, state: z.enum(ALLOCATION_STATES) }),
  'AllocationEnded@1': z.object({
    name,
    allocId,
    outcome: z.enum(ALLOCATION_OUTCOMES),
    reason: z.string(),
    // Spindle stopped it (a stop, a smaller count): nothing to restart, no back-off.
    stopped: z.boolean(),
  }),
} as const;

type Schemas = typeof serviceJobEventDataSchemas;
export type ServiceJobCreatedV1 = EventData<Schemas['ServiceJobCreated@1']>;
export type AllocationEndedV1 = EventData<Schemas['AllocationEnded@1']>;

// On topic spindle.scheduler.service-job.v1, streams service-job-<name>.
export type ServiceJobEvent = EventsOf<Schemas>;
export const isServiceJobEvent = isEventOf(serviceJobEventDataSchemas);
