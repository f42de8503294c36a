import { isSettingsEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { READ_MODEL_SOURCES, SettingsView } from '@spindle/read-models';

export function evolveSettingsView(_row: SettingsView | null, event: SpindleEvent): SettingsView | null {
  if (!isSettingsEvent(event)) throw new Error(`unexpected ${event.type} for the settings read model`);
  switch (event.type) {
    case 'SettingsChanged':
      return Object.assign(new SettingsView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        settings: event.data.settings,
        updatedAt: new Date(event.occurredAt),
      });
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected settings event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const settingsProjection = streamProjection<SettingsView>({
  name: READ_MODEL_SOURCES.settings.consumer,
  topics: [READ_MODEL_SOURCES.settings.topic],
  entity: SettingsView,
  evolve: evolveSettingsView,
});
