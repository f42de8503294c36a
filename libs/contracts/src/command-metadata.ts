import { z } from 'zod';

// What every command carries beside its request, set at the edge that issued it.
export const commandMetadataShape = {
  correlationId: z.string().min(1).max(200),
  // Time is decided at the edge and carried in, so decisions stay pure and replayable.
  issuedAt: z.iso.datetime({ offset: true }),
  // The client's Idempotency-Key header, when it sent one.
  idempotencyKey: z.string().min(1).max(255).optional(),
};

// A change to an existing entity may name the version (its stream's position) it was based on:
// the owner refuses it (precondition_failed) when the entity moved meanwhile, so two clients that
// read the same version cannot overwrite each other's change (HTTP If-Match / ETag).
export const expectedVersionShape = {
  expectedVersion: z.number().int().nonnegative().optional(),
};

// The fields a command named, for a decider that merges them over defaults or the current state:
// a field left out may still be present as `undefined` (a command passed in process is not
// serialized), and must not overwrite anything. `null` is a value (an infinite duration).
export function namedFields<T extends object>(fields: T): NamedFields<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as NamedFields<T>;
}

// Required fields stay required; optional ones, when there, are never `undefined`.
export type NamedFields<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};
