import { isMapReduceJobEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { MapReduceJobView, READ_MODEL_SOURCES } from '@spindle/read-models';
import type { MapReduceTaskRow } from '@spindle/read-models';

const ENDED = ['succeeded', 'failed', 'stopped'];

export function evolveMapReduceJobView(
  row: MapReduceJobView | null,
  event: SpindleEvent,
): MapReduceJobView | null {
  if (!isMapReduceJobEvent(event)) throw new Error(`unexpected ${event.type} for the MapReduce read model`);
  const at = event.occurredAt;
  if (event.type === 'MapReduceJobSubmitted') {
    const d = event.data;
    return Object.assign(new MapReduceJobView(), {
      streamId: event.streamId,
      streamPosition: event.streamPosition,
      name: d.id,
      protocol: d.protocol,
      inputPath: d.inputPath,
      outputPath: d.outputPath,
      nReducers: d.nReducers,
      splitSize: d.splitSize,
      taskTimeoutMs: d.taskTimeoutMs,
      mapper: d.mapper,
      reducer: d.reducer,
      state: 'running',
      error: null,
      run: 0,
      hostId: null,
      tasks: [],
      submittedAt: new Date(at),
      finishedAt: null,
      deletedAt: null,
    });
  }
  if (!row) return null;
  const task = (taskId: string, change: (t: MapReduceTaskRow) => MapReduceTaskRow): MapReduceJobView => ({
    ...row,
    tasks: row.tasks.map((t) => (t.id === taskId ? change(t) : t)),
  });
  switch (event.type) {
    case 'MapReduceJobAssigned':
      return {
        ...row,
        run: event.data.run,
        hostId: event.data.hostId,
        tasks: row.tasks.map((t) => ({
          ...t,
          state: 'scheduled',
          attempts: 0,
          hostId: null,
          startedAt: null,
          finishedAt: null,
          error: null,
        })),
      };
    case 'MapReduceJobPlanned': {
      if (row.tasks.length > 0) return row;
      const { id, maps, reducers } = event.data;
      const fresh = {
        state: 'scheduled',
        attempts: 0,
        hostId: null,
        startedAt: null,
        finishedAt: null,
        error: null,
      } as const;
      return {
        ...row,
        tasks: [
          ...maps.map((split, index) => ({
            id: `${id}-m-${index}`,
            kind: 'mapper' as const,
            index,
            split,
            ...fresh,
          })),
          ...Array.from({ length: reducers }, (_, index) => ({
            id: `${id}-r-${index}`,
            kind: 'reducer' as const,
            index,
            split: null,
            ...fresh,
          })),
        ],
      };
    }
    case 'MapReduceTaskReady':
      return row; // waits for a slot: still scheduled
    case 'MapReduceTaskAssigned':
      return task(event.data.taskId, (t) => ({ ...t, hostId: event.data.hostId }));
    case 'MapReduceTaskStarted':
      return task(event.data.taskId, (t) => ({
        ...t,
        state: 'in-progress',
        attempts: event.data.attempt,
        startedAt: at,
        finishedAt: null,
      }));
    case 'MapReduceTaskSucceeded':
      return task(event.data.taskId, (t) => ({ ...t, state: 'completed', finishedAt: at }));
    case 'MapReduceTaskFailed':
      return task(event.data.taskId, (t) => ({
        ...t,
        state: event.data.retried ? 'scheduled' : 'failed',
        // An attempt lost with its host before it started counts too.
        attempts: Math.max(t.attempts, event.data.attempt),
        error: event.data.error,
        finishedAt: event.data.retried ? null : at,
      }));
    case 'MapReduceTaskStopped':
      return task(event.data.taskId, (t) => ({ ...t, state: 'stopped', finishedAt: at }));
    case 'MapReduceJobStopRequested':
      return ENDED.includes(row.state) ? row : { ...row, state: 'stopping' };
    case 'MapReduceJobSucceeded':
      return { ...row, state: 'succeeded', finishedAt: new Date(at) };
    case 'MapReduceJobFailed':
      return { ...row, state: 'failed', error: event.data.error, finishedAt: new Date(at) };
    case 'MapReduceJobStopped':
      return {
        ...row,
        state: 'stopped',
        finishedAt: new Date(at),
        tasks: row.tasks.map((t) =>
          t.state === 'scheduled' || t.state === 'in-progress'
            ? { ...t, state: 'stopped', finishedAt: at }
            : t,
        ),
      };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected MapReduce event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const mapReduceJobsProjection = streamProjection<MapReduceJobView>({
  name: READ_MODEL_SOURCES.mapReduceJobs.consumer,
  topics: [READ_MODEL_SOURCES.mapReduceJobs.topic],
  entity: MapReduceJobView,
  evolve: evolveMapReduceJobView,
});
