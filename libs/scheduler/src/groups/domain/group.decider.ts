import { EventTopics, commandError, groupStreamId, isGroupEvent } from '@spindle/contracts';
import type {
  CommandError,
  CreateGroupCommand,
  GroupEvent,
  GroupNameCommand,
  NewEvent,
  RescaleGroupCommand,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

// A group stream is keyed by name; a deleted group's name may be taken again (by a new id).
export type GroupStreamState =
  | { readonly status: 'absent' }
  | { readonly status: 'active' | 'archived'; readonly id: string; readonly scale: number }
  | { readonly status: 'deleted' };

export type GroupCommand =
  | ({ readonly kind: 'create' } & CreateGroupCommand)
  | ({ readonly kind: 'rescale' } & RescaleGroupCommand)
  | ({ readonly kind: 'stop' } & GroupNameCommand)
  | ({ readonly kind: 'delete' } & GroupNameCommand);

export function evolveGroup(state: GroupStreamState, event: SpindleEvent): GroupStreamState {
  if (!isGroupEvent(event)) throw new Error(`unexpected ${event.type} in a group stream`);
  switch (event.type) {
    case 'GroupCreated':
      return { status: 'active', id: event.data.id, scale: event.data.scale };
    case 'GroupRescaled':
      return state.status === 'active' ? { ...state, scale: event.data.scale } : state;
    case 'GroupStopped':
      return state.status === 'active' ? { ...state, status: 'archived' } : state;
    case 'GroupDeleted':
      return { status: 'deleted' };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected group event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

function missing(name: string): CommandError {
  return commandError('not_found', `group ${name} does not exist`, 'name');
}

export function decideGroup(
  command: GroupCommand,
  state: GroupStreamState,
): readonly NewEvent<GroupEvent>[] | CommandError {
  switch (command.kind) {
    case 'create': {
      if (state.status === 'active' || state.status === 'archived')
        return commandError('conflict', `group ${command.name} already exists`, 'name');
      const { id, name, scale, definition } = command;
      return [{ type: 'GroupCreated', version: 1, data: { id, name, scale, definition } }];
    }
    case 'rescale':
      if (state.status !== 'active' && state.status !== 'archived') return missing(command.name);
      if (state.status === 'archived')
        return commandError('conflict', `group ${command.name} is stopped (ARCHIVED)`, 'groupId');
      // Already at that scale: nothing happens, and nothing is recorded.
      if (state.scale === command.scale) return [];
      return [
        {
          type: 'GroupRescaled',
          version: 1,
          data: { id: state.id, name: command.name, scale: command.scale },
        },
      ];
    case 'stop':
      if (state.status !== 'active' && state.status !== 'archived') return missing(command.name);
      // Stopping a stopped group is a no-op, as a retried stop must be.
      if (state.status === 'archived') return [];
      return [{ type: 'GroupStopped', version: 1, data: { id: state.id, name: command.name } }];
    case 'delete':
      if (state.status !== 'active' && state.status !== 'archived') return missing(command.name);
      return [{ type: 'GroupDeleted', version: 1, data: { id: state.id, name: command.name } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected group command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const groupDecider: Decider<GroupCommand, GroupStreamState> = {
  initialState: { status: 'absent' },
  evolve: evolveGroup,
  decide: decideGroup,
};

export const groupCommands = {
  decider: groupDecider,
  topic: EventTopics.schedulerGroup,
  streamIdOf: (command: { name: string }) => groupStreamId(command.name),
};
