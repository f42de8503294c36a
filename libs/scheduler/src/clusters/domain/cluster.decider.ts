import {
  DEFAULT_CLUSTER_NAME,
  EventTopics,
  clusterStreamId,
  commandError,
  isClusterEvent,
} from '@spindle/contracts';
import type {
  ClusterEvent,
  CommandError,
  CreateClusterCommand,
  DeleteClusterCommand,
  NewEvent,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

// A cluster stream is keyed by name: names are what groups and jobs refer to, and unique.
export type ClusterState =
  | { readonly status: 'absent' }
  | { readonly status: 'active'; readonly id: string }
  | { readonly status: 'deleted' };

export type ClusterCommand =
  ({ readonly kind: 'create' } & CreateClusterCommand) | ({ readonly kind: 'delete' } & DeleteClusterCommand);

export function evolveCluster(_state: ClusterState, event: SpindleEvent): ClusterState {
  if (!isClusterEvent(event)) throw new Error(`unexpected ${event.type} in a cluster stream`);
  switch (event.type) {
    case 'ClusterCreated':
      return { status: 'active', id: event.data.id };
    case 'ClusterDeleted':
      return { status: 'deleted' };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected cluster event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export function decideCluster(
  command: ClusterCommand,
  state: ClusterState,
): readonly NewEvent<ClusterEvent>[] | CommandError {
  switch (command.kind) {
    case 'create': {
      if (state.status === 'active')
        return commandError('conflict', `cluster ${command.name} already exists`, 'name');
      const { id, name, type, definition, secretId, secretFields } = command;
      return [
        { type: 'ClusterCreated', version: 1, data: { id, name, type, definition, secretId, secretFields } },
      ];
    }
    case 'delete':
      if (command.name === DEFAULT_CLUSTER_NAME)
        return commandError('forbidden', 'the default cluster cannot be deleted', 'name');
      if (state.status !== 'active')
        return commandError('not_found', `cluster ${command.name} does not exist`, 'name');
      return [{ type: 'ClusterDeleted', version: 1, data: { id: state.id, name: command.name } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected cluster command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const clusterDecider: Decider<ClusterCommand, ClusterState> = {
  initialState: { status: 'absent' },
  evolve: evolveCluster,
  decide: decideCluster,
};

export const clusterCommands = {
  decider: clusterDecider,
  topic: EventTopics.schedulerCluster,
  streamIdOf: (command: { name: string }) => clusterStreamId(command.name),
};
