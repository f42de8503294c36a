import {
  EventTopics,
  allocationsToPlace,
  commandError,
  foldServiceJob,
  serviceJobStreamId,
} from '@spindle/contracts';
import type {
  AllocationOutcome,
  AllocationState,
  CommandError,
  CreateServiceJobCommand,
  NewEvent,
  ScaleServiceJobCommand,
  ServiceJobEvent,
  ServiceJobStatus,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

export type ServiceJobState = ServiceJobStatus | null;

// From clients (create, start, stop, scale, delete) and from the supervisor, which runs the
// instances as jobs and reports what became of them (place, change, end).
export type ServiceJobCommand =
  | ({ readonly kind: 'create' } & CreateServiceJobCommand)
  | { readonly kind: 'start' | 'stop' | 'delete'; readonly name: string }
  | ({ readonly kind: 'scale' } & Pick<ScaleServiceJobCommand, 'name' | 'taskGroup' | 'mode' | 'count'>)
  | {
      readonly kind: 'place';
      readonly name: string;
      readonly at: string; // the supervisor's clock: the back-off is counted against it
      readonly allocations: readonly { readonly id: string; readonly taskGroup: string }[];
    }
  | {
      readonly kind: 'change';
      readonly name: string;
      readonly allocId: string;
      readonly state: AllocationState;
    }
  | {
      readonly kind: 'end';
      readonly name: string;
      readonly allocId: string;
      readonly outcome: AllocationOutcome;
      readonly reason: string;
      readonly stopped: boolean;
    };

const live = (state: ServiceJobState): state is ServiceJobStatus => state !== null && !state.deleted;

export function decideServiceJob(
  command: ServiceJobCommand,
  state: ServiceJobState,
): readonly NewEvent<ServiceJobEvent>[] | CommandError {
  const { name } = command;
  const missing = () => commandError('not_found', `service job ${name} does not exist`, 'name');
  switch (command.kind) {
    case 'create': {
      if (live(state)) return commandError('conflict', `service job ${name} already exists`, 'name');
      const groups = command.taskGroups;
      const twice = groups.find((g, i) => groups.findIndex((o) => o.name === g.name) !== i);
      if (twice) return commandError('invalid', `task group ${twice.name} is named twice`, 'taskGroups');
      const over = groups.findIndex((g) => g.countInit > g.countMax);
      if (over >= 0)
        return commandError('invalid', 'countInit must be at most countMax', `taskGroups.${over}.countInit`);
      return [{ type: 'ServiceJobCreated', version: 1, data: { name, taskGroups: groups } }];
    }
    case 'start':
      if (!live(state)) return missing();
      return state.started ? [] : [{ type: 'ServiceJobStarted', version: 1, data: { name } }];
    case 'stop':
      if (!live(state)) return missing();
      return state.started ? [{ type: 'ServiceJobStopped', version: 1, data: { name } }] : [];
    case 'delete':
      if (!live(state)) return missing();
      return [{ type: 'ServiceJobDeleted', version: 1, data: { name } }];
    case 'scale': {
      if (!live(state)) return missing();
      const group = state.taskGroups.find((g) => g.name === command.taskGroup);
      if (!group)
        return commandError(
          'not_found',
          `service job ${name} has no task group ${command.taskGroup}`,
          'taskGroup',
        );
      if (!state.started)
        return commandError('conflict', `service job ${name} is not started: start it first`, 'name');
      let count: number;
      if (command.mode === 'absolute') {
        if (command.count < 0 || command.count > group.countMax)
          return commandError('invalid', `count must be from 0 to countMax (${group.countMax})`, 'count');
        count = command.count;
      } else {
        // Genvid: a delta, clamped to [0, countMax]; a delta of 0 stops the group.
        count = command.count === 0 ? 0 : Math.min(Math.max(group.count + command.count, 0), group.countMax);
      }
      if (count === group.count) return [];
      return [{ type: 'ServiceJobCountSet', version: 1, data: { name, taskGroup: group.name, count } }];
    }
    case 'place': {
      if (state === null) return missing();
      // Only what the count still misses once the back-off passed: a placement decided on an
      // older state (a stop, a smaller count meanwhile) places nothing.
      const due = allocationsToPlace(state, new Date(command.at));
      const placed: NewEvent<ServiceJobEvent>[] = [];
      for (const alloc of command.allocations) {
        const left = due.get(alloc.taskGroup) ?? 0;
        if (left <= 0 || state.allocations.some((a) => a.id === alloc.id)) continue;
        due.set(alloc.taskGroup, left - 1);
        placed.push({
          type: 'AllocationPlaced',
          version: 1,
          data: { name, taskGroup: alloc.taskGroup, allocId: alloc.id },
        });
      }
      return placed;
    }
    case 'change': {
      const alloc = state?.allocations.find((a) => a.id === command.allocId);
      if (!alloc || alloc.state === command.state) return [];
      return [
        { type: 'AllocationChanged', version: 1, data: { name, allocId: alloc.id, state: command.state } },
      ];
    }
    case 'end': {
      if (!state?.allocations.some((a) => a.id === command.allocId)) return [];
      const { allocId, outcome, reason, stopped } = command;
      return [{ type: 'AllocationEnded', version: 1, data: { name, allocId, outcome, reason, stopped } }];
    }
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected service job command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const serviceJobDecider: Decider<ServiceJobCommand, ServiceJobState> = {
  initialState: null,
  evolve: (state: ServiceJobState, event: SpindleEvent) => foldServiceJob(state, event),
  decide: decideServiceJob,
};

export const serviceJobCommands = {
  decider: serviceJobDecider,
  topic: EventTopics.schedulerServiceJob,
  streamIdOf: (command: { name: string }) => serviceJobStreamId(command.name),
};
