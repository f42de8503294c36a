import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { SpindleEvent } from '@spindle/contracts';
import type { EventConsumer } from './event-consumer';
import { runStatements } from '../database/statement-parts';
import type { StatementParts } from '../database/statement-parts';
import { StreamRowTable } from './stream-row-table';

// A read-model row that mirrors one stream, remembering the last stream position it applied.
export interface StreamRow extends ObjectLiteral {
  streamId: string;
  streamPosition: number;
}

export interface StreamProjectionDefinition<TRow extends StreamRow> {
  readonly name: string;
  readonly topics: readonly string[];
  readonly entity: EntityTarget<TRow>;
  // Pure: the next row for this event, or null when the event does not concern this read model.
  evolve(row: TRow | null, event: SpindleEvent): TRow | null;
}

// A consumer that keeps one row per stream, and says how (so a rebuild can replay it elsewhere).
export interface StreamProjection<TRow extends StreamRow = StreamRow> extends EventConsumer {
  readonly definition: StreamProjectionDefinition<TRow>;
  // writes(), with the rows of the touched streams as they are after the events (for a consumer
  // that writes more from them with the rows, like the feed, without reading them again).
  rowWrites(
    events: readonly SpindleEvent[],
    manager: EntityManager,
  ): Promise<{ readonly rows: ReadonlyMap<string, TRow>; readonly writes: readonly StatementParts[] }>;
  // Called in a rebuild's swap transaction once the rebuilt table replaced the live one, for a read
  // model that keeps more than its rows (a change index its readers wait on): the rows changed.
  afterRebuild?(manager: EntityManager): Promise<void>;
}

// Applies events to the rows they concern, in order, in place; returns the stream ids whose row
// changed. An event at or below the row's stream position was applied before and is skipped,
// which makes re-published, re-delivered or replayed events harmless.
export function foldIntoRows<TRow extends StreamRow>(
  definition: StreamProjectionDefinition<TRow>,
  rows: Map<string, TRow | null>,
  events: readonly SpindleEvent[],
): Set<string> {
  const changed = new Set<string>();
  for (const event of events) {
    const current = rows.get(event.streamId) ?? null;
    if (current && event.streamPosition <= current.streamPosition) continue;
    const next = definition.evolve(current, event);
    if (!next) continue;
    // evolve returns a fresh row (or the current one, which this map owns): stamp it in place.
    next.streamId = event.streamId;
    next.streamPosition = event.streamPosition;
    rows.set(event.streamId, next);
    changed.add(event.streamId);
  }
  return changed;
}

// Turns a pure evolve into a batched, idempotent consumer: one read of the touched rows, evolve in
// memory, one upsert of those that changed. Its writes change nothing when run again or late (a row
// only moves forward), so the runner runs them in its claim's statement, with no transaction.
export function streamProjection<TRow extends StreamRow>(
  definition: StreamProjectionDefinition<TRow>,
): StreamProjection<TRow> {
  const tables = new WeakMap<object, StreamRowTable<TRow>>(); // per data source
  const tableOf = (manager: EntityManager) => {
    let table = tables.get(manager.connection);
    if (!table) {
      table = StreamRowTable.of<TRow>(manager, definition.entity as Function);
      tables.set(manager.connection, table);
    }
    return table;
  };
  const rowWrites = async (events: readonly SpindleEvent[], manager: EntityManager) => {
    const table = tableOf(manager);
    const streamIds = [...new Set(events.map((e) => e.streamId))];
    const existing = await table.load(manager, streamIds);
    const rows = new Map<string, TRow>(existing.map((r) => [r.streamId, r]));
    const changed = foldIntoRows(definition, rows as Map<string, TRow | null>, events);
    return { rows, writes: table.upserts([...changed].map((id) => rows.get(id)!)) };
  };
  const writes = async (events: readonly SpindleEvent[], manager: EntityManager) =>
    (await rowWrites(events, manager)).writes;
  return {
    name: definition.name,
    topics: definition.topics,
    definition,
    rowWrites,
    writes,
    async handle(events: readonly SpindleEvent[], manager: EntityManager): Promise<void> {
      await runStatements(manager, await writes(events, manager));
    },
  };
}
