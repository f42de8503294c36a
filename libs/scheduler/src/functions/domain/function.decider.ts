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
      const definition = recorded({ ...REGISTER_DEFAULTS, ...namedFields(command.definition) });
      const refused = libraryRefusal(definition);
      if (refused) return refused;
      return [{ type: 'FunctionRegistered', version: 1, data: { name: command.name, ...definition } }];
    }
    case 'change': {
      if (state.status !== 'registered')
        return commandError('not_found', `function ${command.name} does not exist`, 'name');
      // What the command leaves out keeps its value (a client that knows no retry policy or secrets
      // keeps them), merged on the state the change is decided on.
      const current = { ...state.definition, retries: state.definition.retries ?? 0 };
      const definition = recorded({ ...current, ...namedFields(command.definition) });
      const refused = libraryRefusal(definition);
      if (refused) return refused;
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

// As recorded: no secrets and no libraries are left out of the definition (it reads as one
// recorded before they existed), and every library names its file.
function recorded(definition: FunctionDefinition): FunctionDefinition {
  const { secrets, libraries, ...rest } = definition;
  return {
    ...rest,
    ...(secrets && secrets.length > 0 ? { secrets } : {}),
    ...(libraries && libraries.length > 0
      ? { libraries: libraries.map((l) => ({ artifact: l.artifact, fileName: l.fileName ?? l.artifact })) }
      : {}),
  };
}

// A job's program and its libraries lie in one directory, each under its own file name, so no two
// may share one (the main artifact keeps its artifact's name).
function libraryRefusal(definition: FunctionDefinition): CommandError | null {
  const taken = new Set([definition.artifact]);
  for (const library of definition.libraries ?? []) {
    const fileName = library.fileName ?? library.artifact;
    if (taken.has(fileName))
      return commandError(
        'invalid',
        `libraries: two of the function's artifacts would be named ${fileName} on its program path (the main artifact keeps its own name; give the library another fileName)`,
        'libraries',
      );
    taken.add(fileName);
  }
  return null;
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
