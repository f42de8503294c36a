import { In } from 'typeorm';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { EventEnvelope } from '@spindle/contracts';
import type { EventConsumer } from './event-consumer';

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
  evolve(row: TRow | null, event: EventEnvelope): TRow | null;
}

// Turns a pure evolve into a batched, idempotent consumer: one read of the touched rows, evolve in
// memory, one upsert. An event at or below the row's stream position was applied before and is
// skipped, which makes re-published or re-delivered events harmless.
export function streamProjection<TRow extends StreamRow>(
  definition: StreamProjectionDefinition<TRow>,
): EventConsumer {
  return {
    name: definition.name,
    topics: definition.topics,
    async handle(events: readonly EventEnvelope[], manager: EntityManager): Promise<void> {
      const repository = manager.getRepository(definition.entity);
      const streamIds = [...new Set(events.map((e) => e.streamId))];
      const existing = await repository.findBy({ streamId: In(streamIds) } as never);
      const rows = new Map<string, TRow | null>(existing.map((r) => [r.streamId, r]));
      const changed = new Set<string>();
      for (const event of events) {
        const current = rows.get(event.streamId) ?? null;
        if (current && event.streamPosition <= current.streamPosition) continue;
        const next = definition.evolve(current, event);
        if (!next) continue;
        rows.set(event.streamId, { ...next, streamId: event.streamId, streamPosition: event.streamPosition });
        changed.add(event.streamId);
      }
      const toWrite = [...changed].map((id) => rows.get(id)!);
      if (toWrite.length > 0) await repository.upsert(toWrite, ['streamId']);
    },
  };
}
