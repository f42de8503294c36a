import { isContextEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { READ_MODEL_SOURCES, ContextView } from '@spindle/read-models';

export function evolveContextView(row: ContextView | null, event: SpindleEvent): ContextView | null {
  if (!isContextEvent(event)) throw new Error(`unexpected ${event.type} for the contexts read model`);
  const at = new Date(event.occurredAt);
  switch (event.type) {
    case 'ContextCreated':
      return Object.assign(new ContextView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        name: event.data.name,
        settings: event.data.settings,
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
      });
    case 'ContextSettingsChanged':
      return row ? { ...row, settings: event.data.settings, updatedAt: at } : null;
    case 'ContextDeleted':
      return row ? { ...row, updatedAt: at, deletedAt: at } : null;
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected context event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const contextsProjection = streamProjection<ContextView>({
  name: READ_MODEL_SOURCES.contexts.consumer,
  topics: [READ_MODEL_SOURCES.contexts.topic],
  entity: ContextView,
  evolve: evolveContextView,
});
