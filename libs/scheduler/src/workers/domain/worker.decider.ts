import { EventTopics, commandError, isWorkerEvent, workerStreamId } from '@spindle/contracts';
import type {
  CommandError,
  NewEvent,
  WorkerEvent,
  SpindleEvent,
  WorkerRequestedV1,
  WorkerState,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

export type WorkerStatus =
  | { readonly state: 'absent' }
  | { readonly state: WorkerState; readonly hostId: string; readonly pid: number | null };

export type WorkerCommand =
  | { readonly kind: 'request'; readonly id: string; readonly worker: WorkerRequestedV1 }
  | { readonly kind: 'started'; readonly id: string; readonly pid: number | null }
  // A fresh long-lived process of the worker (a runner) started.
  | { readonly kind: 'process-started'; readonly id: string; readonly pid: number }
  // graceMs: a graceful stop (see WorkerStopRequestedV1); absent, its jobs are cancelled at once.
  | { readonly kind: 'stop'; readonly id: string; readonly reason: string; readonly graceMs?: number | null }
  | { readonly kind: 'stopped'; readonly id: string; readonly reason: string };

export function evolveWorker(state: WorkerStatus, event: SpindleEvent): WorkerStatus {
  if (!isWorkerEvent(event)) throw new Error(`unexpected ${event.type} in a worker stream`);
  const was = state.state === 'absent' ? { hostId: '', pid: null } : state;
  switch (event.type) {
    case 'WorkerRequested':
      return { state: 'starting', hostId: event.data.hostId, pid: null };
    case 'WorkerStarted':
      return {
        ...was,
        state: state.state === 'stopping' ? 'stopping' : 'running',
        pid: event.data.pid ?? was.pid,
      };
    case 'WorkerPidChanged':
      return { ...was, state: state.state === 'absent' ? 'starting' : state.state, pid: event.data.pid };
    case 'WorkerStopRequested':
      return { ...was, state: 'stopping' };
    case 'WorkerStopped':
      return { ...was, state: 'stopped' };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected worker event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export function decideWorker(
  command: WorkerCommand,
  state: WorkerStatus,
): readonly NewEvent<WorkerEvent>[] | CommandError {
  const id = command.id;
  if (command.kind === 'request') {
    if (state.state !== 'absent') return [];
    return [{ type: 'WorkerRequested', version: 1, data: command.worker }];
  }
  if (state.state === 'absent') {
    return commandError('not_found', `worker ${id} does not exist`, 'id');
  }
  switch (command.kind) {
    case 'started':
      if (state.state !== 'starting') return [];
      return [{ type: 'WorkerStarted', version: 1, data: { id, pid: command.pid } }];
    case 'process-started':
      if (state.state === 'stopped' || state.pid === command.pid) return [];
      return [{ type: 'WorkerPidChanged', version: 1, data: { id, pid: command.pid } }];
    case 'stop':
      if (state.state !== 'starting' && state.state !== 'running') return [];
      return [
        {
          type: 'WorkerStopRequested',
          version: 1,
          data: {
            id,
            hostId: state.hostId,
            reason: command.reason,
            ...(command.graceMs === undefined ? {} : { graceMs: command.graceMs }),
          },
        },
      ];
    case 'stopped':
      if (state.state === 'stopped') return [];
      return [{ type: 'WorkerStopped', version: 1, data: { id, reason: command.reason } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected worker command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const workerDecider: Decider<WorkerCommand, WorkerStatus> = {
  initialState: { state: 'absent' },
  evolve: evolveWorker,
  decide: decideWorker,
};

export const workerCommands = {
  decider: workerDecider,
  topic: EventTopics.schedulerWorker,
  streamIdOf: (command: WorkerCommand) => workerStreamId(command.id),
};
