import type { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { OCCURRED_AT_ISO, toEnvelope } from '@spindle/backbone';
import type { EventRow } from '@spindle/backbone';
import type { EventSource } from './event-sources';

export type PositionedEventRow = EventRow & { global_position: string };

// Reads a projection's events from its owner's event store, and validates them as the live
// consumer validates what it reads from the bus; counts what it let through and what it skipped.
export class EventReader {
  private parsed = 0;
  private invalid = 0;

  constructor(
    private readonly source: EventSource,
    readonly batchSize: number,
    private readonly logger: Logger,
  ) {}

  // Events of the projection's types that passed validation so far.
  get events(): number {
    return this.parsed;
  }

  // Failed validation and were skipped (the live consumer dead-letters them).
  get invalidEvents(): number {
    return this.invalid;
  }

  // The next batch past `cursor`, in global_position order; a short batch is the last one.
  readAfter(manager: EntityManager, cursor: string): Promise<PositionedEventRow[]> {
    return manager.query(
      `select global_position, event_id, stream_id, stream_position, type, version, data, correlation_id,
              causation_id, ${OCCURRED_AT_ISO} as occurred_at
       from "${this.source.schema}".events
       where global_position > $1::bigint and type = any($2::text[])
       order by global_position limit $3`,
      [cursor, this.source.types, this.batchSize],
    );
  }

  // Every event of these streams, each stream in order.
  readStreams(manager: EntityManager, streamIds: readonly string[]): Promise<EventRow[]> {
    return manager.query(
      `select event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id,
              ${OCCURRED_AT_ISO} as occurred_at
       from "${this.source.schema}".events
       where stream_id = any($1::text[]) and type = any($2::text[])
       order by stream_id, stream_position`,
      [streamIds, this.source.types],
    );
  }

  parse(rows: readonly EventRow[]): SpindleEvent[] {
    const events: SpindleEvent[] = [];
    for (const row of rows) {
      try {
        events.push(parseEvent(toEnvelope(row)));
      } catch (e) {
        this.invalid++;
        this.logger.warn(`skipping event ${row.event_id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.parsed += events.length;
    return events;
  }
}
