import {
  DEFAULT_CONTEXT_NAME,
  DEFAULT_CONTEXT_SETTINGS,
  commandError,
  isContextEvent,
  namedFields,
} from '@spindle/contracts';
import type {
  ContextEvent,
  SpindleEvent,
  ContextSettings,
  CreateContextCommand,
  DeleteContextCommand,
  NewEvent,
  UpdateContextCommand,
} from '@spindle/contracts';
import type { CommandError } from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';
import { EventTopics, contextStreamId } from '@spindle/contracts';

export type ContextState =
  | { readonly status: 'absent' }
  | { readonly status: 'active'; readonly settings: ContextSettings }
  | { readonly status: 'deleted' };

export type ContextCommand =
  | ({ readonly kind: 'create' } & CreateContextCommand)
  | ({ readonly kind: 'update' } & UpdateContextCommand)
  | ({ readonly kind: 'delete' } & DeleteContextCommand);

export function evolveContext(_state: ContextState, event: SpindleEvent): ContextState {
  if (!isContextEvent(event)) throw new Error(`unexpected ${event.type} in a context stream`);
  switch (event.type) {
    case 'ContextCreated':
    case 'ContextSettingsChanged':
      return { status: 'active', settings: event.data.settings };
    case 'ContextDeleted':
      return { status: 'deleted' };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected context event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export function decideContext(
  command: ContextCommand,
  state: ContextState,
): readonly NewEvent<ContextEvent>[] | CommandError {
  switch (command.kind) {
    case 'create':
      if (state.status === 'active')
        return commandError('conflict', `context ${command.name} already exists`, 'name');
      // Settings left out take Mist's defaults.
      return [
        {
          type: 'ContextCreated',
          version: 1,
          data: {
            name: command.name,
            settings: { ...DEFAULT_CONTEXT_SETTINGS, ...namedFields(command.settings) },
          },
        },
      ];
    case 'update':
      if (state.status !== 'active')
        return commandError('not_found', `context ${command.name} does not exist`, 'name');
      {
        // Settings left out keep their value: merged here, on the state the change is decided on, so
        // two concurrent changes of different settings both land.
        const settings = { ...state.settings, ...namedFields(command.settings) };
        if (JSON.stringify(state.settings) === JSON.stringify(settings)) return [];
        return [{ type: 'ContextSettingsChanged', version: 1, data: { name: command.name, settings } }];
      }
    case 'delete':
      if (command.name === DEFAULT_CONTEXT_NAME) {
        return commandError('forbidden', 'the default context cannot be deleted', 'name');
      }
      if (state.status !== 'active')
        return commandError('not_found', `context ${command.name} does not exist`, 'name');
      return [{ type: 'ContextDeleted', version: 1, data: { name: command.name } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected context command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const contextDecider: Decider<ContextCommand, ContextState> = {
  initialState: { status: 'absent' },
  evolve: evolveContext,
  decide: decideContext,
};

export const contextCommands = {
  decider: contextDecider,
  topic: EventTopics.schedulerContext,
  streamIdOf: (command: { name: string }) => contextStreamId(command.name),
};
