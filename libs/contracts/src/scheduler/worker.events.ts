import { z } from 'zod';
import type { EventEnvelope } from '../envelope';
import { WORKER_MODES } from './context-settings';
import { durationMsSchema } from './durations';
import type { WorkerMode } from './context-settings';

// A worker is one process on a worker host that runs a context's jobs: one job and gone
// (exclusive), or up to maxJobs at once for as long as it is busy (shared).
export const WORKER_STATES = ['starting', 'running', 'stopping', 'stopped'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export function workerStreamId(id: string): string {
  return `worker-${id}`;
}

export interface WorkerRequestedV1 {
  readonly id: string;
  readonly context: string;
  readonly mode: WorkerMode;
  readonly hostId: string;
  readonly hostIncarnation: string; // the agent run it was asked of; a restarted agent refuses it
  readonly maxJobs: number;
  readonly runOptions: string;
}
export interface WorkerStartedV1 {
  readonly id: string;
  // Its long-lived process, null while it has none yet (see WorkerPidChanged). Null is newer than
  // the field: consumers are deployed before producers.
  readonly pid: number | null;
}
// The worker's long-lived process is now this one: its first runner, or a fresh one after the
// last died or was killed.
export interface WorkerPidChangedV1 {
  readonly id: string;
  readonly pid: number;
}
export interface WorkerStopRequestedV1 {
  readonly id: string;
  readonly hostId: string;
  readonly reason: string;
  // A graceful stop: the worker takes no new job and lets its running ones end, cancelling those
  // still running after this many ms (null: however long they take). Absent (stops the scheduler
  // decides itself, and events from before graceful stops): cancel them at once.
  readonly graceMs?: number | null;
}
export interface WorkerStoppedV1 {
  readonly id: string;
  readonly reason: string;
}

// On topic spindle.scheduler.worker.v1, streams worker-<id>.
export type WorkerEvent =
  | EventEnvelope<'WorkerRequested', WorkerRequestedV1>
  | EventEnvelope<'WorkerStarted', WorkerStartedV1>
  | EventEnvelope<'WorkerPidChanged', WorkerPidChangedV1>
  | EventEnvelope<'WorkerStopRequested', WorkerStopRequestedV1>
  | EventEnvelope<'WorkerStopped', WorkerStoppedV1>;

export const workerEventDataSchemas = {
  'WorkerRequested@1': z.object({
    id: z.string(),
    context: z.string(),
    mode: z.enum(WORKER_MODES),
    hostId: z.string(),
    hostIncarnation: z.string(),
    maxJobs: z.number().int().positive(),
    runOptions: z.string(),
  }),
  'WorkerStarted@1': z.object({ id: z.string(), pid: z.number().int().nullable() }),
  'WorkerPidChanged@1': z.object({ id: z.string(), pid: z.number().int() }),
  'WorkerStopRequested@1': z.object({
    id: z.string(),
    hostId: z.string(),
    reason: z.string(),
    graceMs: durationMsSchema.nullable().optional(),
  }),
  'WorkerStopped@1': z.object({ id: z.string(), reason: z.string() }),
} as const;

export const stopWorkerCommandSchema = z.object({
  correlationId: z.string().min(1).max(200),
  issuedAt: z.iso.datetime({ offset: true }),
  id: z.string().min(1),
  // How long its running jobs may go on (see WorkerStopRequestedV1.graceMs); absent: cancel them.
  graceMs: durationMsSchema.nullable().optional(),
});
export type StopWorkerCommand = z.infer<typeof stopWorkerCommandSchema>;
