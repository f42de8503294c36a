import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { installationSettingsSchema } from './installation-settings';

// The settings stream (`settings`), on topic spindle.scheduler.settings.v1: the whole document,
// completed with defaults, each time it changes.
export const settingsEventDataSchemas = {
  'SettingsChanged@1': z.object({ settings: installationSettingsSchema }),
} as const;

type Schemas = typeof settingsEventDataSchemas;
export type SettingsChangedV1 = EventData<Schemas['SettingsChanged@1']>;
export type SettingsEvent = EventsOf<Schemas>;
export const isSettingsEvent = isEventOf(settingsEventDataSchemas);
