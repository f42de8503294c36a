import type { EntityManager } from 'typeorm';
import { newEventId } from '@spindle/contracts';
import type { EventEnvelope, MessageMetadata, NewEvent } from '@spindle/contracts';

export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedPosition: number,
    readonly actualPosition: number,
  ) {
    super(`stream ${streamId}: expected position ${expectedPosition}, found ${actualPosition}`);
    this.name = 'ConcurrencyError';
  }
}

export interface AppendOptions {
  readonly topic: string; // where the relay publishes these events
  readonly metadata: MessageMetadata;
  readonly occurredAt: Date;
}

interface EventRow {
  event_id: string;
  stream_id: string;
  stream_position: number;
  type: string;
  version: number;
  data: unknown;
  correlation_id: string;
  causation_id: string | null;
  occurred_at: Date;
}

// An append-only event store in one service's schema. Appending writes the events and their outbox
// rows in the caller's transaction: the event and its publication commit together or not at all.
export class PostgresEventStore {
  private readonly t: { streams: string; events: string; outbox: string; idempotency: string };

  constructor(schema: string) {
    this.t = {
      streams: `"${schema}".streams`,
      events: `"${schema}".events`,
      outbox: `"${schema}".outbox`,
      idempotency: `"${schema}".idempotency_keys`,
    };
  }

  // `expectedPosition` is the stream's last position the decision was made on (0 = new stream).
  // Must run inside a transaction (`manager` from DataSource.transaction).
  async append(
    manager: EntityManager,
    streamId: string,
    expectedPosition: number,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const newPosition = expectedPosition + events.length;
    // The conditional write takes the stream's row lock; a concurrent append at the same position
    // waits for it and then finds the position moved.
    const claimed: unknown[] =
      expectedPosition === 0
        ? await manager.query(
            `insert into ${this.t.streams} (stream_id, position) values ($1, $2)
             on conflict (stream_id) do nothing returning position`,
            [streamId, newPosition],
          )
        : await manager.query(
            `update ${this.t.streams} set position = $3 where stream_id = $1 and position = $2 returning position`,
            [streamId, expectedPosition, newPosition],
          );
    if (returnedRows(claimed).length === 0) {
      throw new ConcurrencyError(streamId, expectedPosition, await this.currentPosition(manager, streamId));
    }

    const occurredAt = options.occurredAt.toISOString();
    const envelopes: EventEnvelope[] = events.map((event, i) => ({
      id: newEventId(),
      type: event.type,
      version: event.version,
      streamId,
      streamPosition: expectedPosition + i + 1,
      occurredAt,
      correlationId: options.metadata.correlationId,
      causationId: options.metadata.causationId,
      data: event.data,
    }));

    await manager.query(
      `insert into ${this.t.events}
         (event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id, occurred_at)
       select * from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::jsonb[],
                            $7::text[], $8::text[], $9::timestamptz[])`,
      [
        envelopes.map((e) => e.id),
        envelopes.map((e) => e.streamId),
        envelopes.map((e) => e.streamPosition),
        envelopes.map((e) => e.type),
        envelopes.map((e) => e.version),
        envelopes.map((e) => JSON.stringify(e.data)),
        envelopes.map((e) => e.correlationId),
        envelopes.map((e) => e.causationId),
        envelopes.map(() => occurredAt),
      ],
    );
    await manager.query(
      `insert into ${this.t.outbox} (topic, message_key, payload, headers)
       select $1, $2, p, h from unnest($3::jsonb[], $4::jsonb[]) as u(p, h)`,
      [
        options.topic,
        streamId,
        envelopes.map((e) => JSON.stringify(e)),
        envelopes.map((e) => JSON.stringify({ 'event-type': e.type, 'event-id': e.id })),
      ],
    );
    return envelopes;
  }

  async readStream(manager: EntityManager, streamId: string): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await manager.query(
      `select event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id, occurred_at
       from ${this.t.events} where stream_id = $1 order by stream_position`,
      [streamId],
    );
    return rows.map(toEnvelope);
  }

  // The answer recorded for an idempotency key, if a command with it was handled before.
  async findIdempotent(
    manager: EntityManager,
    key: string,
  ): Promise<{ fingerprint: string; result: unknown } | null> {
    const rows: { fingerprint: string; result: unknown }[] = await manager.query(
      `select fingerprint, result from ${this.t.idempotency} where key = $1`,
      [key],
    );
    return rows[0] ?? null;
  }

  // In the command's transaction; a concurrent twin with the same key fails on the primary key.
  async rememberIdempotent(
    manager: EntityManager,
    key: string,
    fingerprint: string,
    result: unknown,
  ): Promise<void> {
    await manager.query(`insert into ${this.t.idempotency} (key, fingerprint, result) values ($1, $2, $3)`, [
      key,
      fingerprint,
      JSON.stringify(result),
    ]);
  }

  async currentPosition(manager: EntityManager, streamId: string): Promise<number> {
    const rows: { position: number }[] = await manager.query(
      `select position from ${this.t.streams} where stream_id = $1`,
      [streamId],
    );
    return rows[0]?.position ?? 0;
  }
}

// TypeORM answers UPDATE/DELETE with [rows, rowCount] and anything else with rows.
export function returnedRows(result: unknown): unknown[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as unknown[];
  }
  return Array.isArray(result) ? result : [];
}

function toEnvelope(row: EventRow): EventEnvelope {
  return {
    id: row.event_id,
    type: row.type,
    version: row.version,
    streamId: row.stream_id,
    streamPosition: row.stream_position,
    occurredAt: new Date(row.occurred_at).toISOString(),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    data: row.data,
  };
}
