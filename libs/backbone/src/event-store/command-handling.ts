import type { DataSource } from 'typeorm';
import { commandFailed } from '@spindle/contracts';
import type {
  CommandError,
  CommandResult,
  EventEnvelope,
  MessageMetadata,
  NewEvent,
} from '@spindle/contracts';
import { ConcurrencyError } from './postgres-event-store';
import type { PostgresEventStore } from './postgres-event-store';

// The pure core of an event-sourced entity: fold its events into state, decide on a command.
export interface Decider<TCommand, TState> {
  readonly initialState: TState;
  readonly evolve: (state: TState, event: EventEnvelope) => TState;
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
}

const MAX_CONCURRENCY_RETRIES = 5;

// Load, decide, append; on a concurrent append, decide again on the fresh state.
export async function handleCommand<TCommand, TState>(
  args: HandleCommandArgs<TCommand, TState>,
): Promise<CommandResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await args.dataSource.transaction(async (manager): Promise<CommandResult> => {
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
        return { ok: true, streamId: args.streamId, streamPosition: appended.at(-1)!.streamPosition };
      });
      if (result.ok) args.onCommitted?.();
      return result;
    } catch (e) {
      if (e instanceof ConcurrencyError && attempt < MAX_CONCURRENCY_RETRIES) continue;
      if (e instanceof ConcurrencyError) return commandFailed('conflict', e.message);
      throw e;
    }
  }
}
