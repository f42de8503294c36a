import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { contextSettingsSchema } from './context-settings';

// Payload schemas, keyed by `type@version`: the types below are inferred from them, and every
// process edge that reads or records these events validates against them.
export const contextEventDataSchemas = {
  'ContextCreated@1': z.object({ name: z.string(), settings: contextSettingsSchema }),
  'ContextSettingsChanged@1': z.object({ name: z.string(), settings: contextSettingsSchema }),
  'ContextDeleted@1': z.object({ name: z.string() }),
} as const;

type Schemas = typeof contextEventDataSchemas;
export type ContextCreatedV1 = EventData<Schemas['ContextCreated@1']>;
export type ContextSettingsChangedV1 = EventData<Schemas['ContextSettingsChanged@1']>;
export type ContextDeletedV1 = EventData<Schemas['ContextDeleted@1']>;

// Everything that can happen to a context, on topic spindle.scheduler.context.v1.
export type ContextEvent = EventsOf<Schemas>;
export type ContextEventType = ContextEvent['type'];
export const isContextEvent = isEventOf(contextEventDataSchemas);
