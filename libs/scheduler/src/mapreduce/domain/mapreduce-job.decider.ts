import { EventTopics, commandError, isMapReduceJobEvent, mapReduceJobStreamId } from '@spindle/contracts';
import type {
  CommandError,
  MapReduceJobEvent,
  MapReduceJobState,
  MapReduceJobSubmittedV1,
  MapReduceTaskState,
  NewEvent,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

export interface MapReduceTaskStatus {
  readonly state: MapReduceTaskState;
  readonly attempts: number; // the latest attempt that started
  readonly ready?: number; // an attempt the coordinator asked for, not placed yet
  readonly placed?: number; // an attempt placed on a host, not started yet
}

export type MapReduceJobStatus =
  | { readonly state: 'absent' }
  | {
      readonly state: MapReduceJobState;
      readonly tasks: Readonly<Record<string, MapReduceTaskStatus>>;
      // The placement the engine's reports must come from (0: not placed yet).
      readonly run?: number;
    };

// What the engine (libs/worker/src/mapreduce, MapReduceProgress and MapReduceOutcome) reports,
// and what clients ask: submit and stop.
export type MapReduceJobCommand =
  | { readonly kind: 'submit'; readonly job: MapReduceJobSubmittedV1 }
  | {
      // Placed on a host (again, when the last one was lost): the next run.
      readonly kind: 'assign';
      readonly id: string;
      readonly hostId: string;
      readonly incarnation: string;
      readonly reason: string;
      readonly job: MapReduceJobSubmittedV1;
    }
  | {
      readonly kind: 'plan';
      readonly id: string;
      readonly run?: number; // the engine's reports: from the job's current run only
      readonly maps: readonly InputRange[];
      readonly reducers: number;
    }
  | {
      // The coordinator wants this attempt run somewhere.
      readonly kind: 'task-ready';
      readonly id: string;
      readonly run: number;
      readonly taskId: string;
      readonly taskKind: 'mapper' | 'reducer';
      readonly attempt: number;
    }
  | {
      // The supervisor places a ready attempt on a host.
      readonly kind: 'assign-task';
      readonly id: string;
      readonly run: number;
      readonly taskId: string;
      readonly taskKind: 'mapper' | 'reducer';
      readonly attempt: number;
      readonly hostId: string;
      readonly incarnation: string;
    }
  | {
      readonly kind: 'task-started';
      readonly id: string;
      readonly run?: number; // the engine's reports: from the job's current run only
      readonly taskId: string;
      readonly taskKind: 'mapper' | 'reducer';
      readonly attempt: number;
    }
  | {
      readonly kind: 'task-succeeded';
      readonly id: string;
      readonly run?: number; // the engine's reports: from the job's current run only
      readonly taskId: string;
      readonly attempt: number;
    }
  | {
      readonly kind: 'task-failed';
      readonly id: string;
      readonly run?: number; // the engine's reports: from the job's current run only
      readonly taskId: string;
      readonly attempt: number;
      readonly error: string;
      readonly retried: boolean;
    }
  | {
      readonly kind: 'task-stopped';
      readonly id: string;
      readonly run?: number;
      readonly taskId: string;
      readonly attempt: number;
    }
  | { readonly kind: 'stop'; readonly id: string; readonly reason: string }
  | {
      readonly kind: 'finish';
      readonly id: string;
      readonly run?: number;
      readonly outcome: MapReduceFinish;
    };

export interface InputRange {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

export type MapReduceFinish =
  | { readonly state: 'succeeded' }
  | { readonly state: 'failed'; readonly error: string }
  | { readonly state: 'stopped'; readonly reason: string };

type MapReduceNewEvent = NewEvent<MapReduceJobEvent>;

const FINISHED: readonly MapReduceJobState[] = ['succeeded', 'failed', 'stopped'];

function taskIdsOf(id: string, maps: number, reducers: number): string[] {
  return [
    ...Array.from({ length: maps }, (_, i) => `${id}-m-${i}`),
    ...Array.from({ length: reducers }, (_, i) => `${id}-r-${i}`),
  ];
}

export function evolveMapReduceJob(state: MapReduceJobStatus, event: SpindleEvent): MapReduceJobStatus {
  if (!isMapReduceJobEvent(event)) return state;
  const withTask = (taskId: string, task: MapReduceTaskStatus): MapReduceJobStatus =>
    state.state === 'absent' ? state : { ...state, tasks: { ...state.tasks, [taskId]: task } };
  const attemptsOf = (taskId: string): number =>
    state.state === 'absent' ? 0 : (state.tasks[taskId]?.attempts ?? 0);
  switch (event.type) {
    case 'MapReduceJobSubmitted':
      return { state: 'running', tasks: {} };
    case 'MapReduceJobAssigned':
      if (state.state === 'absent') return state;
      // A new run starts every task over (the shuffle of a lost host's run is not trusted).
      return {
        ...state,
        run: event.data.run,
        tasks: Object.fromEntries(
          Object.keys(state.tasks).map((t) => [t, { state: 'scheduled', attempts: 0 }]),
        ),
      };
    case 'MapReduceJobPlanned':
      if (state.state === 'absent') return state;
      return {
        ...state,
        tasks: Object.fromEntries(
          taskIdsOf(event.data.id, event.data.maps.length, event.data.reducers).map((t) => [
            t,
            { state: 'scheduled', attempts: 0 },
          ]),
        ),
      };
    case 'MapReduceTaskReady': {
      const task = state.state === 'absent' ? undefined : state.tasks[event.data.taskId];
      return task ? withTask(event.data.taskId, { ...task, ready: event.data.attempt }) : state;
    }
    case 'MapReduceTaskAssigned': {
      const task = state.state === 'absent' ? undefined : state.tasks[event.data.taskId];
      if (!task) return state;
      const { ready: _placedNow, ...rest } = task;
      return withTask(event.data.taskId, { ...rest, placed: event.data.attempt });
    }
    case 'MapReduceTaskStarted':
      return withTask(event.data.taskId, { state: 'in-progress', attempts: event.data.attempt });
    case 'MapReduceTaskSucceeded':
      return withTask(event.data.taskId, { state: 'completed', attempts: event.data.attempt });
    case 'MapReduceTaskFailed':
      // A retried task waits for its next attempt; the last failure is final.
      return withTask(event.data.taskId, {
        state: event.data.retried ? 'scheduled' : 'failed',
        attempts: event.data.attempt,
      });
    case 'MapReduceTaskStopped':
      return withTask(event.data.taskId, { state: 'stopped', attempts: attemptsOf(event.data.taskId) });
    case 'MapReduceJobStopRequested':
      return state.state === 'absent' ? state : { ...state, state: 'stopping' };
    case 'MapReduceJobSucceeded':
      return state.state === 'absent' ? state : { ...state, state: 'succeeded' };
    case 'MapReduceJobFailed':
      return state.state === 'absent' ? state : { ...state, state: 'failed' };
    case 'MapReduceJobStopped':
      if (state.state === 'absent') return state;
      // Tasks that never ran or were waiting for a retry are stopped with the job (Apollo's rule).
      return {
        ...state,
        state: 'stopped',
        tasks: Object.fromEntries(
          Object.entries(state.tasks).map(([t, task]) => [
            t,
            task.state === 'scheduled' || task.state === 'in-progress' ? { ...task, state: 'stopped' } : task,
          ]),
        ),
      };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

export function decideMapReduceJob(
  command: MapReduceJobCommand,
  state: MapReduceJobStatus,
): readonly NewEvent[] | CommandError {
  const event = <T extends MapReduceNewEvent['type']>(
    type: T,
    data: Extract<MapReduceNewEvent, { type: T }>['data'],
  ): NewEvent => ({ type, version: 1, data }) as MapReduceNewEvent;
  if (command.kind === 'submit') {
    if (state.state !== 'absent')
      return commandError('conflict', `MapReduce job ${command.job.id} exists`, 'id');
    return [event('MapReduceJobSubmitted', command.job)];
  }
  if (state.state === 'absent') return commandError('not_found', `no MapReduce job ${command.id}`, 'id');
  const finished = FINISHED.includes(state.state);
  // A report from an earlier run (a host that was given up on) changes nothing.
  if ('run' in command && command.run !== undefined && command.run !== (state.run ?? 0)) return [];
  switch (command.kind) {
    case 'assign':
      if (finished) return [];
      return [
        event('MapReduceJobAssigned', {
          id: command.id,
          run: (state.run ?? 0) + 1,
          hostId: command.hostId,
          incarnation: command.incarnation,
          reason: command.reason,
          job: command.job,
        }),
      ];
    case 'stop':
      if (finished) return commandError('conflict', `job ${command.id} already finished its workload`, 'id');
      if (state.state === 'stopping') return []; // asked twice: once is enough
      return [event('MapReduceJobStopRequested', { id: command.id, reason: command.reason })];
    case 'finish':
      if (finished) return []; // a duplicate report
      switch (command.outcome.state) {
        case 'succeeded':
          return [event('MapReduceJobSucceeded', { id: command.id })];
        case 'failed':
          return [event('MapReduceJobFailed', { id: command.id, error: command.outcome.error })];
        case 'stopped':
          return [event('MapReduceJobStopped', { id: command.id, reason: command.outcome.reason })];
        default: {
          const unhandled: never = command.outcome;
          return unhandled;
        }
      }
    case 'plan':
      if (finished || Object.keys(state.tasks).length > 0) return [];
      return [
        event('MapReduceJobPlanned', { id: command.id, maps: [...command.maps], reducers: command.reducers }),
      ];
    case 'task-ready': {
      const task = state.tasks[command.taskId];
      if (!task) return commandError('not_found', `no task ${command.taskId} in job ${command.id}`, 'taskId');
      // Only a new attempt of a task not running, in a job that goes on; else a duplicate.
      if (finished || state.state === 'stopping' || task.state === 'in-progress') return [];
      if (command.attempt <= Math.max(task.attempts, task.ready ?? 0, task.placed ?? 0)) return [];
      return [
        event('MapReduceTaskReady', {
          id: command.id,
          run: command.run,
          taskId: command.taskId,
          kind: command.taskKind,
          attempt: command.attempt,
        }),
      ];
    }
    case 'assign-task': {
      const task = state.tasks[command.taskId];
      if (!task) return commandError('not_found', `no task ${command.taskId} in job ${command.id}`, 'taskId');
      if (finished || state.state === 'stopping' || task.ready !== command.attempt) return [];
      return [
        event('MapReduceTaskAssigned', {
          id: command.id,
          run: command.run,
          taskId: command.taskId,
          kind: command.taskKind,
          attempt: command.attempt,
          hostId: command.hostId,
          incarnation: command.incarnation,
        }),
      ];
    }
    case 'task-started':
    case 'task-succeeded':
    case 'task-failed':
    case 'task-stopped': {
      const task = state.tasks[command.taskId];
      if (!task) return commandError('not_found', `no task ${command.taskId} in job ${command.id}`, 'taskId');
      // Reports of an attempt older than the task's latest are late duplicates.
      if (finished || command.attempt < task.attempts) return [];
      if (command.kind === 'task-started') {
        if (command.attempt === task.attempts && task.state !== 'scheduled') return [];
        return [
          event('MapReduceTaskStarted', {
            id: command.id,
            taskId: command.taskId,
            kind: command.taskKind,
            attempt: command.attempt,
          }),
        ];
      }
      // An attempt placed on a host that was lost before it started fails all the same.
      const placedOnly = task.state === 'scheduled' && task.placed === command.attempt;
      if (task.state !== 'in-progress' && !(command.kind === 'task-failed' && placedOnly)) return [];
      if (command.kind === 'task-succeeded')
        return [
          event('MapReduceTaskSucceeded', {
            id: command.id,
            taskId: command.taskId,
            attempt: command.attempt,
          }),
        ];
      if (command.kind === 'task-stopped')
        return [
          event('MapReduceTaskStopped', { id: command.id, taskId: command.taskId, attempt: command.attempt }),
        ];
      return [
        event('MapReduceTaskFailed', {
          id: command.id,
          taskId: command.taskId,
          attempt: command.attempt,
          error: command.error,
          retried: command.retried,
        }),
      ];
    }
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
}

export const mapReduceJobDecider: Decider<MapReduceJobCommand, MapReduceJobStatus> = {
  initialState: { state: 'absent' },
  evolve: evolveMapReduceJob,
  decide: decideMapReduceJob,
};

export const mapReduceJobCommands = {
  decider: mapReduceJobDecider,
  topic: EventTopics.schedulerMapReduceJob,
  streamIdOf: (command: MapReduceJobCommand) =>
    mapReduceJobStreamId(command.kind === 'submit' ? command.job.id : command.id),
};
