import type { DataSource, EntityManager } from 'typeorm';
import type { CommandResult, SpindleEvent, MessageMetadata } from '@spindle/contracts';
import { CommandEngine } from './command-engine';
import type { Decider } from './command-engine';
import type { Idempotency } from './idempotency';
import type { PostgresEventStore } from './postgres-event-store';

export interface HandleCommandArgs<TCommand, TState> {
  readonly dataSource: DataSource;
  readonly store: PostgresEventStore;
  readonly decider: Decider<TCommand, TState>;
  readonly streamId: string;
  readonly topic: string;
  readonly command: TCommand;
  readonly metadata: MessageMetadata;
  readonly now: Date;
  readonly onCommitted?: (appended: readonly SpindleEvent[]) => void;
  // Runs in the same transaction after the append: state the owner keeps beside its streams
  // (a dispatch queue, say) can never disagree with them.
  readonly afterAppend?: (manager: EntityManager, appended: readonly SpindleEvent[]) => Promise<void>;
  // Same key and same request: the first answer again, no second effect. Same key, other request: refused.
  readonly idempotency?: Idempotency;
  // The caller's transaction, when the effects must commit with its own writes.
  readonly within?: EntityManager;
}

// One command through the CommandEngine, for a service with a single entity and no batches.
export function handleCommand<TCommand, TState>(
  args: HandleCommandArgs<TCommand, TState>,
): Promise<CommandResult> {
  const engine = new CommandEngine(args.dataSource, args.store, {
    ...(args.afterAppend
      ? { stateOf: (appended) => ({ after: (manager) => args.afterAppend!(manager, appended) }) }
      : {}),
    onCommitted: args.onCommitted,
  });
  return engine.run(
    {
      streamId: args.streamId,
      topic: args.topic,
      decider: args.decider as unknown as Decider<unknown, unknown>,
      command: args.command,
      metadata: args.metadata,
      now: args.now,
      ...(args.idempotency ? { idempotency: args.idempotency } : {}),
    },
    args.within,
  );
}
