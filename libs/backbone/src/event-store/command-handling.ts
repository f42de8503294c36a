import type { DataSource, EntityManager } from 'typeorm';
import { commandFailed } from '@spindle/contracts';
import type {
  CommandError,
  CommandResult,
  MessageMetadata,
  NewEvent,
  SpindleEvent,
} from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS } from '../database/advisory-locks';
import { ConcurrencyError } from './postgres-event-store';
import type { PostgresEventStore } from './postgres-event-store';

// The pure core of an event-sourced entity: fold its events into state, decide on a command.
export interface Decider<TCommand, TState> {
  readonly initialState: TState;
  readonly evolve: (state: TState, event: SpindleEvent) => TState;
  readonly decide: (command: TCommand, state: TState) => readonly NewEvent[] | CommandError;
}

export function isCommandError(value: unknown): value is CommandError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

export interface HandleCommandArgs<TCommand, TState> {
  readonly dataSource: DataSource;
  readonly store: PostgresEventStore;
  readonly decider: Decider<TCommand, TState>;
  readonly streamId: string;
  readonly topic: string;
  readonly command: TCommand;
  readonly metadata: MessageMetadata;
  readonly now: Date;
  readonly onCommitted?: () => void;
  // Runs in the same transaction after the append: state the owner keeps beside its streams
  // (a dispatch queue, say) can never disagree with them.
  readonly afterAppend?: (manager: EntityManager, appended: readonly SpindleEvent[]) => Promise<void>;
  // Same key and same request: the first answer again, no second effect. Same key, other request: refused.
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

const MAX_CONCURRENCY_RETRIES = 5;

// Load, decide, append; on a concurrent append, decide again on the fresh state.
export async function handleCommand<TCommand, TState>(
  args: HandleCommandArgs<TCommand, TState>,
): Promise<CommandResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await args.dataSource.transaction(async (manager): Promise<CommandResult> => {
        const { idempotency } = args;
        if (idempotency) {
          // Twins with the same key queue here, so the second sees what the first recorded.
          await manager.query('select pg_advisory_xact_lock($1, hashtext($2))', [
            ADVISORY_LOCK_CLASS.idempotencyKey,
            idempotency.key,
          ]);
          const earlier = await args.store.findIdempotent(manager, idempotency.key);
          if (earlier && earlier.fingerprint !== idempotency.fingerprint) {
            return commandFailed(
              'invalid',
              'this Idempotency-Key was used with a different request',
              'Idempotency-Key',
            );
          }
          if (earlier) return earlier.result as CommandResult;
        }
        const history = await args.store.readStream(manager, args.streamId);
        const state = history.reduce(args.decider.evolve, args.decider.initialState);
        const decision = args.decider.decide(args.command, state);
        if (isCommandError(decision)) return { ok: false, error: decision };
        const position = history.at(-1)?.streamPosition ?? 0;
        if (decision.length === 0) return { ok: true, streamId: args.streamId, streamPosition: position };
        const appended = await args.store.append(manager, args.streamId, position, decision, {
          topic: args.topic,
          metadata: args.metadata,
          occurredAt: args.now,
        });
        await args.afterAppend?.(manager, appended);
        const done: CommandResult = {
          ok: true,
          streamId: args.streamId,
          streamPosition: appended.at(-1)!.streamPosition,
          events: appended,
        };
        if (idempotency)
          await args.store.rememberIdempotent(manager, idempotency.key, idempotency.fingerprint, done);
        return done;
      });
      if (result.ok) args.onCommitted?.();
      return result;
    } catch (e) {
      // A concurrent append, or a twin request with the same idempotency key: decide again.
      const retriable = e instanceof ConcurrencyError || isUniqueViolation(e);
      if (retriable && attempt < MAX_CONCURRENCY_RETRIES) continue;
      if (e instanceof ConcurrencyError) return commandFailed('conflict', e.message);
      throw e;
    }
  }
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}
