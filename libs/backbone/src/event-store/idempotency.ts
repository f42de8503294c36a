import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { commandFailed } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS } from '../database/advisory-locks';
import type { PostgresEventStore } from './postgres-event-store';

// A client's Idempotency-Key, scoped to the entity and command kind, with a fingerprint of the request.
export interface Idempotency {
  readonly key: string;
  readonly fingerprint: string;
}

// The same key with another request is refused, not answered with the first result. Fields that
// differ between honest retries (a server-drawn id) are left out of the fingerprint.
export function idempotencyOf(
  topic: string,
  kind: string,
  clientKey: string | undefined,
  request: Record<string, unknown>,
  omits: readonly string[] = [],
): Idempotency | undefined {
  if (!clientKey) return undefined;
  const fingerprinted = Object.fromEntries(Object.entries(request).filter(([k]) => !omits.includes(k)));
  return {
    key: `${topic}:${kind}:${clientKey}`,
    fingerprint: createHash('sha256').update(JSON.stringify(fingerprinted)).digest('hex'),
  };
}

// What the keys of a batch say before anything is decided: an answer already given (or a
// refusal) per command, which command is the first with its key (its twins later in the batch
// get its answer), and which commands are left to decide.
export interface KeyedBatch {
  readonly answers: (CommandResult | undefined)[];
  readonly firstWithKey: ReadonlyMap<string, number>;
  readonly toDecide: readonly number[];
}

// In the batch's transaction. Commands with the same key queue on an advisory lock (sorted, so two
// batches never wait on each other crosswise), here and in other processes: the second sees what
// the first recorded.
export async function settleKeys(
  manager: EntityManager,
  store: PostgresEventStore,
  keys: readonly (Idempotency | undefined)[],
): Promise<KeyedBatch> {
  const distinct = [...new Set(keys.flatMap((k) => (k ? [k.key] : [])))].sort();
  if (distinct.length > 0) {
    await manager.query(
      'select pg_advisory_xact_lock($1, hashtext(k)) from unnest($2::text[]) as k order by k',
      [ADVISORY_LOCK_CLASS.idempotencyKey, distinct],
    );
  }
  const earlier = await store.findIdempotentMany(manager, distinct);
  const answers: (CommandResult | undefined)[] = keys.map(() => undefined);
  const firstWithKey = new Map<string, number>();
  const toDecide: number[] = [];
  keys.forEach((idempotency, i) => {
    if (idempotency) {
      const seen = earlier.get(idempotency.key);
      const twin = firstWithKey.get(idempotency.key);
      const fingerprint = seen?.fingerprint ?? (twin === undefined ? undefined : keys[twin]!.fingerprint);
      if (fingerprint !== undefined && fingerprint !== idempotency.fingerprint) {
        answers[i] = commandFailed(
          'invalid',
          'this Idempotency-Key was used with a different request',
          'Idempotency-Key',
        );
        return;
      }
      if (seen) {
        answers[i] = seen.result as CommandResult;
        return;
      }
      if (twin !== undefined) return; // answered with its twin's result
      firstWithKey.set(idempotency.key, i);
    }
    toDecide.push(i);
  });
  return { answers, firstWithKey, toDecide };
}
