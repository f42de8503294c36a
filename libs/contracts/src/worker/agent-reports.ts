import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { logTotalsSchema } from '../logs/log-records';

// What a worker agent reports about the processes it runs, recorded in the worker service's own
// event store (streams host-<hostId>:<incarnation>) and relayed on spindle.worker.report.v1. The
// scheduler turns them into job and worker events.
export const TASK_OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

export function hostStreamId(hostId: string, incarnation: string): string {
  return `host-${hostId}:${incarnation}`;
}

export const agentReportDataSchemas = {
  // pid: its long-lived process; null while it has none (runners start with the first task that
  // needs one, and WorkerRunnerStarted tells it then). Null is newer than the field: consumers first.
  'WorkerProcessStarted@1': z.object({
    workerId: z.string(),
    hostId: z.string(),
    pid: z.number().int().nullable(),
  }),
  'WorkerProcessExited@1': z.object({ workerId: z.string(), hostId: z.string(), reason: z.string() }),
  // A long-lived runner process of the worker started: its first, or a fresh one after the last
  // died or was killed. Its pid is the worker's from now on.
  'WorkerRunnerStarted@1': z.object({ workerId: z.string(), hostId: z.string(), pid: z.number().int() }),
  'TaskStarted@1': z.object({
    jobId: z.string(),
    workerId: z.string(),
    pid: z.number().int(),
    // When the task began in its process, by the worker host's clock (absent in older reports).
    startedAt: z.iso.datetime({ offset: true }).optional(),
  }),
  'TaskFinished@1': z.object({
    jobId: z.string(),
    workerId: z.string(),
    outcome: z.enum(TASK_OUTCOMES),
    result: z.unknown(), // when succeeded
    error: z.string().nullable(), // when not
    log: logTotalsSchema,
    // When the task ended, by the worker host's clock (absent in older reports).
    finishedAt: z.iso.datetime({ offset: true }).optional(),
  }),
  // A step of a MapReduce job this host coordinates or a task of it this host runs (its run: see
  // MapReduceJobAssigned and MapReduceTaskAssigned): the engine's progress, which the scheduler records on the job's stream. Log lines go to the log-collector.
  'MapReduceProgressed@1': z.object({
    jobId: z.string(),
    run: z.number().int().positive(),
    step: z.discriminatedUnion('type', [
      z.object({
        type: z.literal('planned'),
        maps: z.array(
          z.object({ key: z.string(), start: z.number().int().min(0), end: z.number().int().min(0) }),
        ),
        reducers: z.number().int().min(0),
      }),
      // The coordinator asks for an attempt to be placed on a host (MapReduceTaskReady).
      z.object({
        type: z.literal('task-ready'),
        taskId: z.string(),
        kind: z.enum(['mapper', 'reducer']),
        attempt: z.number().int().positive(),
      }),
      z.object({
        type: z.literal('task-started'),
        taskId: z.string(),
        kind: z.enum(['mapper', 'reducer']),
        attempt: z.number().int().positive(),
      }),
      z.object({
        type: z.literal('task-succeeded'),
        taskId: z.string(),
        attempt: z.number().int().positive(),
      }),
      z.object({
        type: z.literal('task-failed'),
        taskId: z.string(),
        attempt: z.number().int().positive(),
        error: z.string(),
        retried: z.boolean(),
      }),
      z.object({ type: z.literal('task-stopped'), taskId: z.string(), attempt: z.number().int().positive() }),
      z.object({
        type: z.literal('finished'),
        outcome: z.discriminatedUnion('state', [
          z.object({ state: z.literal('succeeded') }),
          z.object({ state: z.literal('failed'), error: z.string() }),
          z.object({ state: z.literal('stopped'), reason: z.string() }),
        ]),
      }),
    ]),
  }),
} as const;

type Schemas = typeof agentReportDataSchemas;
export type WorkerProcessStartedV1 = EventData<Schemas['WorkerProcessStarted@1']>;
export type WorkerRunnerStartedV1 = EventData<Schemas['WorkerRunnerStarted@1']>;
export type WorkerProcessExitedV1 = EventData<Schemas['WorkerProcessExited@1']>;
export type TaskStartedV1 = EventData<Schemas['TaskStarted@1']>;
export type TaskFinishedV1 = EventData<Schemas['TaskFinished@1']>;

export type MapReduceProgressedV1 = EventData<Schemas['MapReduceProgressed@1']>;
export type AgentReport = EventsOf<Schemas>;
export const isAgentReport = isEventOf(agentReportDataSchemas);

// How often a host with work beats, and when a heartbeat that does not say is followed by the next.
export const HEARTBEAT_MS = 1_000;

// A worker host says it is alive on spindle.worker.heartbeat.v1 (plain JSON): every second while
// it has work, less often while it has none, each heartbeat saying when the next one is due. The
// first one registers it; silence past what it is allowed fails what ran there.
export const hostHeartbeatSchema = z.object({
  installation: z.string(), // the database of the Spindle it belongs to
  hostId: z.string().min(1),
  incarnation: z.string().min(1), // new on every agent start
  hostname: z.string(),
  agentPid: z.number().int(),
  slots: z.number().int().nonnegative(), // worker processes it accepts at once
  startedAt: z.iso.datetime({ offset: true }),
  sentAt: z.iso.datetime({ offset: true }),
  workers: z.array(z.object({ workerId: z.string(), pid: z.number().int().nullable() })),
  stopping: z.boolean(), // an agent shutting down takes no new work
  // When the host beats next, at the latest, in ms (absent: in a second, as agents did before it
  // was said): a reader allows it that much longer than a second before taking it for gone.
  nextBeatMs: z.number().int().positive().max(60_000).optional(),
});
export type HostHeartbeat = z.infer<typeof hostHeartbeatSchema>;
