import {
  DEFAULT_CONTEXT_NAME,
  EventTopics,
  commandError,
  functionStreamId,
  isFunctionEvent,
  namedFields,
} from '@spindle/contracts';
import type {
  ChangeFunctionCommand,
  CommandError,
  DeleteFunctionCommand,
  FunctionDefinition,
  FunctionEvent,
  SpindleEvent,
  NewEvent,
  RegisterFunctionCommand,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

export type FunctionState =
  | { readonly status: 'absent' | 'deleted' }
  | { readonly status: 'registered'; readonly definition: FunctionDefinition };

export type FunctionCommand =
  | ({ readonly kind: 'register' } & RegisterFunctionCommand)
  | ({ readonly kind: 'change' } & ChangeFunctionCommand)
  | ({ readonly kind: 'delete' } & DeleteFunctionCommand);

export function evolveFunction(_state: FunctionState, event: SpindleEvent): FunctionState {
  if (!isFunctionEvent(event)) throw new Error(`unexpected ${event.type} in a function stream`);
  switch (event.type) {
    case 'FunctionRegistered':
    case 'FunctionChanged': {
      const { name: _name, ...definition } = event.data;
      return { status: 'registered', definition };
    }
    case 'FunctionDeleted':
      return { status: 'deleted' };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected function event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export function decideFunction(
  command: FunctionCommand,
  state: FunctionState,
): readonly NewEvent<FunctionEvent>[] | CommandError {
  switch (command.kind) {
    case 'register': {
      if (state.status === 'registered')
        return commandError('conflict', `function ${command.name} already exists`, 'name');
      // What the command leaves out takes its default; the retry policy is always recorded.
      const definition = withoutNoSecrets({ ...REGISTER_DEFAULTS, ...namedFields(command.definition) });
      return [{ type: 'FunctionRegistered', version: 1, data: { name: command.name, ...definition } }];
    }
    case 'change': {
      if (state.status !== 'registered')
        return commandError('not_found', `function ${command.name} does not exist`, 'name');
      // What the command leaves out keeps its value (a client that knows no retry policy or secrets
      // keeps them), merged on the state the change is decided on.
      const current = { ...state.definition, retries: state.definition.retries ?? 0 };
      const definition = withoutNoSecrets({ ...current, ...namedFields(command.definition) });
      if (JSON.stringify(canonical(current)) === JSON.stringify(canonical(definition))) return [];
      return [{ type: 'FunctionChanged', version: 1, data: { name: command.name, ...definition } }];
    }
    case 'delete':
      if (state.status !== 'registered')
        return commandError('not_found', `function ${command.name} does not exist`, 'name');
      return [{ type: 'FunctionDeleted', version: 1, data: { name: command.name } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected function command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

const REGISTER_DEFAULTS = {
  entrypoint: '',
  defaultContext: DEFAULT_CONTEXT_NAME,
  tags: [],
  retries: 0,
} satisfies Partial<FunctionDefinition>;

// No secrets are left out of the definition: it reads as one recorded before secrets existed.
function withoutNoSecrets(definition: FunctionDefinition): FunctionDefinition {
  const { secrets, ...rest } = definition;
  return secrets && secrets.length > 0 ? { ...rest, secrets } : rest;
}

function canonical(definition: FunctionDefinition): Record<string, unknown> {
  return Object.fromEntries(Object.entries(definition).sort(([a], [b]) => a.localeCompare(b)));
}

export const functionDecider: Decider<FunctionCommand, FunctionState> = {
  initialState: { status: 'absent' },
  evolve: evolveFunction,
  decide: decideFunction,
};

export const functionCommands = {
  decider: functionDecider,
  topic: EventTopics.schedulerFunction,
  streamIdOf: (command: { name: string }) => functionStreamId(command.name),
};
