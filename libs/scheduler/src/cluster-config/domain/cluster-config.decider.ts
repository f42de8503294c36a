import {
  EMPTY_LOGGERS,
  EVENT_RULES_STREAM_ID,
  EventTopics,
  LOGGERS_STREAM_ID,
  LOG_CATALOGUE_STREAM_ID,
  isClusterConfigEvent,
} from '@spindle/contracts';
import type {
  ClusterConfigEvent,
  CommandError,
  LoggersDocument,
  NewEvent,
  ReplaceEventRulesCommand,
  ReplaceLogCatalogueCommand,
  SetLoggerLevelsCommand,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

// The document of one configuration stream as its last event left it; null: never written.
export type ClusterConfigState = { readonly document: unknown };

export type ClusterConfigCommand =
  | ({ readonly kind: 'replace-log-catalogue' } & ReplaceLogCatalogueCommand)
  | ({ readonly kind: 'set-logger-levels' } & SetLoggerLevelsCommand)
  | ({ readonly kind: 'replace-event-rules' } & ReplaceEventRulesCommand);

export function evolveClusterConfig(_state: ClusterConfigState, event: SpindleEvent): ClusterConfigState {
  if (!isClusterConfigEvent(event)) throw new Error(`unexpected ${event.type} in a cluster-config stream`);
  switch (event.type) {
    case 'LogCatalogueReplaced':
      return { document: event.data.logs };
    case 'LoggersChanged':
      return { document: event.data.loggers };
    case 'EventRulesReplaced':
      return { document: event.data.files };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected cluster-config event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

// Every stream holds one whole document; a command that leaves it as it is records nothing.
export function decideClusterConfig(
  command: ClusterConfigCommand,
  state: ClusterConfigState,
): readonly NewEvent<ClusterConfigEvent>[] | CommandError {
  const { event, document } = changeOf(command, state);
  return JSON.stringify(document) === JSON.stringify(state.document) ? [] : [event];
}

function changeOf(
  command: ClusterConfigCommand,
  state: ClusterConfigState,
): { event: NewEvent<ClusterConfigEvent>; document: unknown } {
  switch (command.kind) {
    case 'replace-log-catalogue':
      return {
        event: { type: 'LogCatalogueReplaced', version: 1, data: { logs: command.logs } },
        document: command.logs,
      };
    case 'set-logger-levels': {
      const loggers = withLevels((state.document as LoggersDocument | null) ?? EMPTY_LOGGERS, command);
      return { event: { type: 'LoggersChanged', version: 1, data: { loggers } }, document: loggers };
    }
    case 'replace-event-rules':
      return {
        event: { type: 'EventRulesReplaced', version: 1, data: { files: command.files } },
        document: command.files,
      };
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected cluster-config command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

// Merges the named levels into one logger's map; '' removes a name, and an empty map the logger.
export function withLevels(current: LoggersDocument, command: SetLoggerLevelsCommand): LoggersDocument {
  const scope = command.allocId === null ? current.defaults : (current.allocs[command.allocId] ?? {});
  const levels = { ...scope[command.loggerId] };
  for (const [name, level] of Object.entries(command.levels)) {
    if (level === '') delete levels[name];
    else levels[name] = level;
  }
  const { [command.loggerId]: _replaced, ...others } = scope;
  const nextScope = Object.keys(levels).length > 0 ? { ...others, [command.loggerId]: levels } : others;
  if (command.allocId === null) return { ...current, defaults: nextScope };
  const { [command.allocId]: _old, ...otherAllocs } = current.allocs;
  return {
    ...current,
    allocs:
      Object.keys(nextScope).length > 0 ? { ...otherAllocs, [command.allocId]: nextScope } : otherAllocs,
  };
}

export const clusterConfigDecider: Decider<ClusterConfigCommand, ClusterConfigState> = {
  initialState: { document: null },
  evolve: evolveClusterConfig,
  decide: decideClusterConfig,
};

const STREAM_OF: Record<ClusterConfigCommand['kind'], string> = {
  'replace-log-catalogue': LOG_CATALOGUE_STREAM_ID,
  'set-logger-levels': LOGGERS_STREAM_ID,
  'replace-event-rules': EVENT_RULES_STREAM_ID,
};

export const clusterConfigCommands = {
  decider: clusterConfigDecider,
  topic: EventTopics.schedulerClusterConfig,
  streamIdOf: (command: ClusterConfigCommand) => STREAM_OF[command.kind],
};
