import type { EntityManager } from 'typeorm';
import type { SpindleEvent } from '@spindle/contracts';
import type { StatementParts } from '../database/statement-parts';

// A consumer of events that keeps its effects in Postgres: a projection, a process manager.
export interface EventConsumer {
  // Consumer group id and checkpoint key. Version it ("projector.contexts.v1") so a changed
  // consumer starts over in a new table instead of reinterpreting old rows.
  readonly name: string;
  readonly topics: readonly string[];
  // Runs inside the runner's transaction together with the checkpoint write. Events arrive in
  // partition order; the same event may arrive again (re-publication), so stay idempotent.
  handle(events: readonly SpindleEvent[], manager: EntityManager): Promise<void>;
  // Instead of handle, for a consumer whose writes change nothing when applied again or late (a
  // stream's row moves only forward, a feed entry is unique by its event id): the writes for these
  // events, worked out with reads outside any transaction. The runner runs them in the statement
  // that claims the events and moves the checkpoint (riding, StatementParts): a batch is that
  // statement and those reads, with no transaction around them (see EventConsumerRunner.commit).
  writes?(events: readonly SpindleEvent[], manager: EntityManager): Promise<readonly StatementParts[]>;
  // After the transaction that applied `events` (those of a handle call, the same objects) committed:
  // wake whoever acts on their effects (the outbox relay, say), since only now can they see them.
  committed?(events: readonly SpindleEvent[]): void;
}
