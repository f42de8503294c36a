import { z } from 'zod';
import type { EventEnvelope } from '../envelope';
import { logTotalsSchema } from '../logs/log-records';
import type { LogTotals } from '../logs/log-records';

// What a worker agent reports about the processes it runs, recorded in the worker service's own
// event store (streams host-<hostId>:<incarnation>) and relayed on spindle.worker.report.v1. The
// scheduler turns them into job and worker events.
export const TASK_OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

export function hostStreamId(hostId: string, incarnation: string): string {
  return `host-${hostId}:${incarnation}`;
}

export interface WorkerProcessStartedV1 {
  readonly workerId: string;
  readonly hostId: string;
  // Its long-lived process; null while it has none (runners start with the first task that needs
  // one, and WorkerRunnerStarted tells it then). Null is newer than the field: consumers first.
  readonly pid: number | null;
}
// A long-lived runner process of the worker started: its first, or a fresh one after the last
// died or was killed. Its pid is the worker's from now on.
export interface WorkerRunnerStartedV1 {
  readonly workerId: string;
  readonly hostId: string;
  readonly pid: number;
}
export interface WorkerProcessExitedV1 {
  readonly workerId: string;
  readonly hostId: string;
  readonly reason: string;
}
export interface TaskStartedV1 {
  readonly jobId: string;
  readonly workerId: string;
  readonly pid: number;
  // When the task began in its process, by the worker host's clock (absent in older reports).
  readonly startedAt?: string;
}
export interface TaskFinishedV1 {
  readonly jobId: string;
  readonly workerId: string;
  readonly outcome: TaskOutcome;
  readonly result: unknown; // when succeeded
  readonly error: string | null; // when not
  readonly log: LogTotals;
  // When the task ended, by the worker host's clock (absent in older reports).
  readonly finishedAt?: string;
}

export type AgentReport =
  | EventEnvelope<'WorkerProcessStarted', WorkerProcessStartedV1>
  | EventEnvelope<'WorkerProcessExited', WorkerProcessExitedV1>
  | EventEnvelope<'WorkerRunnerStarted', WorkerRunnerStartedV1>
  | EventEnvelope<'TaskStarted', TaskStartedV1>
  | EventEnvelope<'TaskFinished', TaskFinishedV1>;

export const agentReportDataSchemas = {
  'WorkerProcessStarted@1': z.object({
    workerId: z.string(),
    hostId: z.string(),
    pid: z.number().int().nullable(),
  }),
  'WorkerProcessExited@1': z.object({ workerId: z.string(), hostId: z.string(), reason: z.string() }),
  'WorkerRunnerStarted@1': z.object({ workerId: z.string(), hostId: z.string(), pid: z.number().int() }),
  'TaskStarted@1': z.object({
    jobId: z.string(),
    workerId: z.string(),
    pid: z.number().int(),
    startedAt: z.iso.datetime({ offset: true }).optional(),
  }),
  'TaskFinished@1': z.object({
    jobId: z.string(),
    workerId: z.string(),
    outcome: z.enum(TASK_OUTCOMES),
    result: z.unknown(),
    error: z.string().nullable(),
    log: logTotalsSchema,
    finishedAt: z.iso.datetime({ offset: true }).optional(),
  }),
} as const;

// A worker host says it is alive every second on spindle.worker.heartbeat.v1 (plain JSON). The
// first one registers it; silence past the scheduler's limit fails what ran there.
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
});
export type HostHeartbeat = z.infer<typeof hostHeartbeatSchema>;
