import { isFunctionEvent } from '@spindle/contracts';
import type { FunctionDefinition, SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { READ_MODEL_SOURCES, FunctionView } from '@spindle/read-models';

export function evolveFunctionView(row: FunctionView | null, event: SpindleEvent): FunctionView | null {
  if (!isFunctionEvent(event)) throw new Error(`unexpected ${event.type} for the functions read model`);
  const at = new Date(event.occurredAt);
  switch (event.type) {
    case 'FunctionRegistered':
      return Object.assign(new FunctionView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        ...event.data,
        retries: event.data.retries ?? 0,
        secrets: [...(event.data.secrets ?? [])],
        libraries: librariesOf(event.data),
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
      });
    case 'FunctionChanged':
      return row
        ? {
            ...row,
            ...event.data,
            retries: event.data.retries ?? 0,
            secrets: [...(event.data.secrets ?? [])],
            libraries: librariesOf(event.data),
            updatedAt: at,
          }
        : null;
    case 'FunctionDeleted':
      return row ? { ...row, updatedAt: at, deletedAt: at } : null;
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected function event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

// Recorded with their file names; an event from before libraries has none.
function librariesOf(definition: FunctionDefinition): FunctionView['libraries'] {
  return (definition.libraries ?? []).map((l) => ({
    artifact: l.artifact,
    fileName: l.fileName ?? l.artifact,
  }));
}

export const functionsProjection = streamProjection<FunctionView>({
  name: READ_MODEL_SOURCES.functions.consumer,
  topics: [READ_MODEL_SOURCES.functions.topic],
  entity: FunctionView,
  evolve: evolveFunctionView,
});
