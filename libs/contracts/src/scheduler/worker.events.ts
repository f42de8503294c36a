import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { WORKER_MODES } from './context-settings';
import { durationMsSchema } from './durations';

// A worker is one process on a worker host that runs a context's jobs: one job and gone
// (exclusive), or up to maxJobs at once for as long as it is busy (shared).
export const WORKER_STATES = ['starting', 'running', 'stopping', 'stopped'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export function workerStreamId(id: string): string {
  return `worker-${id}`;
}

export const workerEventDataSchemas = {
  'WorkerRequested@1': z.object({
    id: z.string(),
    context: z.string(),
    mode: z.enum(WORKER_MODES),
    hostId: z.string(),
    hostIncarnation: z.string(), // the agent run it was asked of; a restarted agent refuses it
    maxJobs: z.number().int().positive(),
    runOptions: z.string(),
  }),
  // pid: its long-lived process, null while it has none yet (see WorkerPidChanged). Null is newer
  // than the field: consumers are deployed before producers.
  'WorkerStarted@1': z.object({ id: z.string(), pid: z.number().int().nullable() }),
  // The worker's long-lived process is now this one: its first runner, or a fresh one after the
  // last died or was killed.
  'WorkerPidChanged@1': z.object({ id: z.string(), pid: z.number().int() }),
  'WorkerStopRequested@1': z.object({
    id: z.string(),
    hostId: z.string(),
    reason: z.string(),
    // A graceful stop: the worker takes no new job and lets its running ones end, cancelling those
    // still running after this many ms (null: however long they take). Absent (stops the scheduler
    // decides itself, and events from before graceful stops): cancel them at once.
    graceMs: durationMsSchema.nullable().optional(),
  }),
  'WorkerStopped@1': z.object({ id: z.string(), reason: z.string() }),
} as const;

type Schemas = typeof workerEventDataSchemas;
export type WorkerRequestedV1 = EventData<Schemas['WorkerRequested@1']>;
export type WorkerStartedV1 = EventData<Schemas['WorkerStarted@1']>;
export type WorkerPidChangedV1 = EventData<Schemas['WorkerPidChanged@1']>;
export type WorkerStopRequestedV1 = EventData<Schemas['WorkerStopRequested@1']>;
export type WorkerStoppedV1 = EventData<Schemas['WorkerStopped@1']>;

// On topic spindle.scheduler.worker.v1, streams worker-<id>.
export type WorkerEvent = EventsOf<Schemas>;
export const isWorkerEvent = isEventOf(workerEventDataSchemas);

export const stopWorkerCommandSchema = z.object({
  correlationId: z.string().min(1).max(200),
  issuedAt: z.iso.datetime({ offset: true }),
  id: z.string().min(1),
  // How long its running jobs may go on (see WorkerStopRequestedV1.graceMs); absent: cancel them.
  graceMs: durationMsSchema.nullable().optional(),
});
export type StopWorkerCommand = z.infer<typeof stopWorkerCommandSchema>;
