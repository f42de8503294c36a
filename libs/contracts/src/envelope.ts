import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';

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

// An event as a decision produces it: the store assigns id, position and time.
export interface NewEvent<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly version: number;
  readonly data: TData;
}

export function newEventId(): string {
  return uuidv7();
}

// Metadata that travels with a command and ends up on every event it causes.
export interface MessageMetadata {
  readonly correlationId: string;
  readonly causationId: string | null;
}
