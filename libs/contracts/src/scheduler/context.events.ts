import { z } from 'zod';
import type { EventEnvelope } from '../envelope';
import { contextSettingsSchema } from './context-settings';
import type { ContextSettings } from './context-settings';

export interface ContextCreatedV1 {
  readonly name: string;
  readonly settings: ContextSettings;
}
export interface ContextSettingsChangedV1 {
  readonly name: string;
  readonly settings: ContextSettings;
}
export interface ContextDeletedV1 {
  readonly name: string;
}

// Everything that can happen to a context, on topic spindle.scheduler.context.v1.
export type ContextEvent =
  | EventEnvelope<'ContextCreated', ContextCreatedV1>
  | EventEnvelope<'ContextSettingsChanged', ContextSettingsChangedV1>
  | EventEnvelope<'ContextDeleted', ContextDeletedV1>;

export type ContextEventType = ContextEvent['type'];

// Payload validators, keyed by `type@version`, used at every process edge that reads these events.
export const contextEventDataSchemas = {
  'ContextCreated@1': z.object({ name: z.string(), settings: contextSettingsSchema }),
  'ContextSettingsChanged@1': z.object({ name: z.string(), settings: contextSettingsSchema }),
  'ContextDeleted@1': z.object({ name: z.string() }),
} as const;
