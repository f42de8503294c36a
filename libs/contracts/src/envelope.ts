import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { SpindleEvent } from './event-registry';

// The envelope every event carries on the wire and in the event store.
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string; // UUIDv7: time-ordered, unique across services
  readonly type: TType;
  readonly version: number; // payload schema version of this event type
  readonly streamId: string;
  readonly streamPosition: number; // 1-based position within the stream
  readonly occurredAt: string; // ISO-8601
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly data: TData;
}

export const eventEnvelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  streamId: z.string().min(1),
  streamPosition: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  data: z.unknown(),
});

// An event's payload as its schema reads it. Recorded facts do not change: readonly.
export type EventData<TSchema extends z.ZodType> = Readonly<z.output<TSchema>>;

// Payload schemas keyed by `type@version`: the one source of an event's shape and type.
export type EventSchemas = Readonly<Record<string, z.ZodType>>;

type TypeOfKey<TKey extends string> = TKey extends `${infer TType}@${number}` ? TType : never;

// The envelopes a schema map describes, one union member per `type@version`.
export type EventsOf<TSchemas extends EventSchemas> = {
  [K in keyof TSchemas & string]: EventEnvelope<TypeOfKey<K>, EventData<TSchemas[K]>>;
}[keyof TSchemas & string];

// An event as a decision produces it: the store assigns id, position and time. Without a type
// argument, any registered event.
export type NewEvent<TEvent extends EventEnvelope = SpindleEvent> =
  TEvent extends EventEnvelope<infer TType, infer TData>
    ? { readonly type: TType; readonly version: number; readonly data: TData }
    : never;

// Narrows a parsed event to one stream's union by its type. On an envelope that was not parsed
// (data unknown) it narrows to nothing: only the registry turns raw data into typed events.
export function isEventOf<TSchemas extends EventSchemas>(schemas: TSchemas) {
  const isType = isEventTypeOf(schemas);
  return <TEvent extends EventEnvelope>(event: TEvent): event is Extract<TEvent, EventsOf<TSchemas>> =>
    isType(event.type);
}

// Whether a type name (say, a feed entry's) is one of a schema map's event types.
export function isEventTypeOf<TSchemas extends EventSchemas>(schemas: TSchemas) {
  const types = new Set(Object.keys(schemas).map((key) => key.slice(0, key.lastIndexOf('@'))));
  return (type: string): type is EventsOf<TSchemas>['type'] => types.has(type);
}

export function newEventId(): string {
  return uuidv7();
}

// Metadata that travels with a command and ends up on every event it causes.
export interface MessageMetadata {
  readonly correlationId: string;
  readonly causationId: string | null;
}
