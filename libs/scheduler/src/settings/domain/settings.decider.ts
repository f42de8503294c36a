import { EventTopics, SETTINGS_STREAM_ID, isSettingsEvent } from '@spindle/contracts';
import type {
  ChangeSettingsCommand,
  CommandError,
  InstallationSettings,
  NewEvent,
  SettingsEvent,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

// null: never changed, the defaults apply.
export type SettingsState = { readonly settings: InstallationSettings | null };

export type SettingsCommand = { readonly kind: 'change' } & ChangeSettingsCommand;

export function evolveSettings(_state: SettingsState, event: SpindleEvent): SettingsState {
  if (!isSettingsEvent(event)) throw new Error(`unexpected ${event.type} in the settings stream`);
  switch (event.type) {
    case 'SettingsChanged':
      return { settings: event.data.settings };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected settings event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

// The document is validated and completed before it gets here; the same document again is no change.
export function decideSettings(
  command: SettingsCommand,
  state: SettingsState,
): readonly NewEvent<SettingsEvent>[] | CommandError {
  switch (command.kind) {
    case 'change':
      if (JSON.stringify(state.settings) === JSON.stringify(command.settings)) return [];
      return [{ type: 'SettingsChanged', version: 1, data: { settings: command.settings } }];
    default: {
      const unknownCommand: never = command.kind;
      throw new Error(`unexpected settings command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const settingsDecider: Decider<SettingsCommand, SettingsState> = {
  initialState: { settings: null },
  evolve: evolveSettings,
  decide: decideSettings,
};

export const settingsCommands = {
  decider: settingsDecider,
  topic: EventTopics.schedulerSettings,
  streamIdOf: () => SETTINGS_STREAM_ID,
};
