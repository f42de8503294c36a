import { isWorkerEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import type { EventConsumer } from '@spindle/backbone';
import { READ_MODEL_SOURCES, WorkerView } from '@spindle/read-models';
import { withFeed } from '../feed/feed';

export function evolveWorkerView(row: WorkerView | null, event: SpindleEvent): WorkerView | null {
  if (!isWorkerEvent(event)) throw new Error(`unexpected ${event.type} for the workers read model`);
  const at = new Date(event.occurredAt);
  if (event.type === 'WorkerRequested') {
    const d = event.data;
    return Object.assign(new WorkerView(), {
      streamId: event.streamId,
      streamPosition: event.streamPosition,
      id: d.id,
      context: d.context,
      mode: d.mode,
      hostId: d.hostId,
      pid: null,
      state: 'starting',
      maxJobs: d.maxJobs,
      stopReason: null,
      createdAt: at,
      startedAt: null,
      stoppedAt: null,
      updatedAt: at,
    } satisfies Omit<WorkerView, never>);
  }
  if (!row) return null;
  switch (event.type) {
    case 'WorkerStarted':
      return {
        ...row,
        state: row.state === 'stopping' ? 'stopping' : 'running',
        pid: event.data.pid ?? row.pid,
        startedAt: at,
        updatedAt: at,
      };
    case 'WorkerPidChanged':
      return { ...row, pid: event.data.pid, updatedAt: at };
    case 'WorkerStopRequested':
      return { ...row, state: 'stopping', stopReason: event.data.reason, updatedAt: at };
    case 'WorkerStopped':
      return {
        ...row,
        state: 'stopped',
        stopReason: row.stopReason ?? event.data.reason,
        stoppedAt: at,
        updatedAt: at,
      };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected worker event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

// The rows alone: what a rebuild replays (the feed is append-only and keeps its entries).
export const workerRowsProjection = streamProjection<WorkerView>({
  name: READ_MODEL_SOURCES.workers.consumer,
  topics: [READ_MODEL_SOURCES.workers.topic],
  entity: WorkerView,
  evolve: evolveWorkerView,
});

export const workersProjection: EventConsumer = withFeed('worker', workerRowsProjection);
