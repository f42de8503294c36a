import type { EntityManager } from 'typeorm';
import { assertEventData, newEventId, parseEvent } from '@spindle/contracts';
import type { EventEnvelope, MessageMetadata, NewEvent, SpindleEvent } from '@spindle/contracts';
import { randomUUID } from 'node:crypto';
import { NOTIFY_CHANNELS, outboxNotice } from '../database/pg-notifications';
import { jsonbElements, ridingCtes } from '../database/statement-parts';
import { APPEND_CONFLICT_SQLSTATE } from '../database/append-conflict.migration';
import type { StatementParts } from '../database/statement-parts';

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

export interface StreamAppend extends AppendOptions {
  readonly streamId: string;
  readonly expectedPosition: number;
  readonly events: readonly NewEvent[];
}

// A row of an `events` table, as pg returns it.
export interface EventRow {
  event_id: string;
  stream_id: string;
  stream_position: number;
  type: string;
  version: number;
  data: unknown;
  correlation_id: string;
  causation_id: string | null;
  // A Date as pg parses it, or already the envelope's ISO text when the query formats it
  // (`OCCURRED_AT_ISO`: a bulk reader's shortcut past parsing a date only to print it again).
  occurred_at: Date | string;
}

// Selects occurred_at as the envelope's ISO 8601 text (UTC, milliseconds, as it was recorded).
export const OCCURRED_AT_ISO = `to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// An append-only event store in one service's schema. Appending writes the events and their outbox
// rows in the caller's transaction: the event and its publication commit together or not at all.
// A copy of an event for a consumer that needs it on a topic of its own (same envelope, same id),
// keyed its way: the scheduler sends each worker host what is addressed to it, in order.
export type OutboxCopy = (
  event: SpindleEvent,
) => { readonly topic: string; readonly key: string } | undefined;

export class PostgresEventStore {
  private readonly t: {
    streams: string;
    events: string;
    outbox: string;
    idempotency: string;
    appendConflict: string;
  };
  // Names this store in its outbox notifications (outboxNotice): its own service's listeners in
  // this process are told of its commits in-process, and wait only for other appenders' ones.
  readonly appender = randomUUID().slice(0, 8);

  constructor(
    private readonly schema: string,
    private readonly copyOf: OutboxCopy = () => undefined,
  ) {
    this.t = {
      streams: `"${schema}".streams`,
      events: `"${schema}".events`,
      outbox: `"${schema}".outbox`,
      idempotency: `"${schema}".idempotency_keys`,
      appendConflict: `"${schema}".append_conflict`,
    };
  }

  // `expectedPosition` is the stream's last position the decision was made on (0 = new stream).
  // Runs in the caller's transaction (`manager` from DataSource.transaction); see appendMany for
  // when it needs none.
  async append(
    manager: EntityManager,
    streamId: string,
    expectedPosition: number,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<SpindleEvent[]> {
    const [appended] = await this.appendMany(manager, [{ streamId, expectedPosition, events, ...options }]);
    return appended ?? [];
  }

  // Several streams in one go (a batch of commands in one transaction): one statement whatever
  // the number of streams. Any stream not at its expected position fails them all, with a
  // ConcurrencyError: the statement fails (append_conflict, append-conflict.migration.ts), so
  // nothing of it stays, also without a transaction around it.
  // Every event is checked against its schema first: an invalid one throws InvalidEventError and
  // nothing is written.
  // `rider`, given the events as they will be appended, may add a write of the caller's own state
  // to the statement (StatementParts), which commits or fails with it; it runs before the
  // statement is sent (the command engine begins its transaction there when it needs one).
  async appendMany(
    manager: EntityManager,
    appends: readonly StreamAppend[],
    rider?: (
      appended: readonly SpindleEvent[],
    ) => StatementParts | undefined | Promise<StatementParts | undefined>,
  ): Promise<SpindleEvent[][]> {
    for (const a of appends) for (const event of a.events) assertEventData(event);
    const writes = appends.filter((a) => a.events.length > 0);
    if (writes.length === 0) return appends.map(() => []);
    // Each stream moves once, from the position its first append expected to its last one's end
    // (a batch may decide a stream twice): a fresh stream (from 0) is claimed, an existing one moved.
    const moves = new Map<string, { from: number; to: number }>();
    for (const a of writes) {
      const move = moves.get(a.streamId);
      if (move && move.to !== a.expectedPosition)
        throw new ConcurrencyError(a.streamId, a.expectedPosition, move.to);
      moves.set(a.streamId, {
        from: move?.from ?? a.expectedPosition,
        to: a.expectedPosition + a.events.length,
      });
    }
    const fresh = [...moves].filter(([, m]) => m.from === 0).map(([id]) => id);
    const moved = [...moves].filter(([, m]) => m.from > 0).map(([id]) => id);

    const envelopes = appends.map((a) => {
      const occurredAt = a.occurredAt.toISOString();
      return a.events.map((event, i): SpindleEvent => ({
        id: newEventId(),
        ...event,
        streamId: a.streamId,
        streamPosition: a.expectedPosition + i + 1,
        occurredAt,
        correlationId: a.metadata.correlationId,
        causationId: a.metadata.causationId,
      }));
    });
    const all = envelopes.flat();
    const topics = appends.flatMap((a) => a.events.map(() => a.topic));
    // Each event on its topic keyed by its stream, each copy right after it (so a copy's own key
    // sees them in append order).
    const rows = all.flatMap((e, i) => {
      const copy = this.copyOf(e);
      const row = { topic: topics[i]!, key: e.streamId, event: e };
      return copy ? [row, { topic: copy.topic, key: copy.key, event: e }] : [row];
    });

    // One statement, one round trip (a command's transaction was six before): the streams' writes,
    // then the events and their outbox rows. The streams' writes take their row locks; a
    // concurrent append at the same position waits for the lock and then finds the position
    // moved, and `conflict` fails the statement. The relays of this schema, in any process, are
    // told when the transaction commits.
    const ridden = await rider?.(all);
    const params = [
      fresh,
      fresh.map((id) => moves.get(id)!.to),
      moved,
      moved.map((id) => moves.get(id)!.from),
      moved.map((id) => moves.get(id)!.to),
      all.map((e) => e.id),
      all.map((e) => e.streamId),
      all.map((e) => e.streamPosition),
      all.map((e) => e.type),
      all.map((e) => e.version),
      JSON.stringify(all.map((e) => e.data)),
      all.map((e) => e.correlationId),
      all.map((e) => e.causationId),
      all.map((e) => e.occurredAt),
      rows.map((r) => r.topic),
      rows.map((r) => r.key),
      JSON.stringify(rows.map((r) => r.event)),
      JSON.stringify(rows.map((r) => ({ 'event-type': r.event.type, 'event-id': r.event.id }))),
    ];
    const riding = ridingCtes(ridden ? [ridden] : [], params.length);
    try {
      await manager.query(
        `with claimed as (
           insert into ${this.t.streams} (stream_id, position) select * from unnest($1::text[], $2::int[])
           on conflict (stream_id) do nothing returning stream_id),
         moved as (
           update ${this.t.streams} s set position = v.to_position
           from unnest($3::text[], $4::int[], $5::int[]) as v(stream_id, from_position, to_position)
           where s.stream_id = v.stream_id and s.position = v.from_position returning s.stream_id),
         checked as (
           select (select count(*) from claimed) = cardinality($1::text[])
              and (select count(*) from moved) = cardinality($3::text[]) as ok),
         appended as (
           insert into ${this.t.events}
             (event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id, occurred_at)
           select e.* from unnest($6::uuid[], $7::text[], $8::int[], $9::text[], $10::int[], ${jsonbElements('$11')},
                                  $12::text[], $13::text[], $14::timestamptz[]) e, checked where checked.ok),
         queued as (
           insert into ${this.t.outbox} (topic, message_key, payload, headers)
           select o.* from unnest($15::text[], $16::text[], ${jsonbElements('$17')}, ${jsonbElements('$18')}) o, checked,
             (select pg_notify('${NOTIFY_CHANNELS.outbox}', '${outboxNotice(this.schema, this.appender)}')) notified
           where checked.ok),
         conflict as (
           select ${this.t.appendConflict}(coalesce(
             (select id from unnest($1::text[]) id where id not in (select stream_id from claimed) limit 1),
             (select id from unnest($3::text[]) id where id not in (select stream_id from moved) limit 1)))
           from checked where not checked.ok)${riding.ctes && `,\n${riding.ctes}`}
         select count(*) from conflict`,
        [...params, ...riding.params],
      );
    } catch (e) {
      const lost = appendConflictOf(e);
      if (lost) throw new ConcurrencyError(lost.streamId, moves.get(lost.streamId)?.from ?? 0, lost.position);
      throw e;
    }
    return envelopes;
  }

  // Reads parse every event with the registry, as consumers do: deciders get the typed union.
  async readStream(manager: EntityManager, streamId: string): Promise<SpindleEvent[]> {
    const rows: EventRow[] = await manager.query(
      `select event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id, occurred_at
       from ${this.t.events} where stream_id = $1 order by stream_position`,
      [streamId],
    );
    return rows.map(toEvent);
  }

  // Several streams in one query, each in position order.
  async readStreams(
    manager: EntityManager,
    streamIds: readonly string[],
  ): Promise<Map<string, SpindleEvent[]>> {
    const streams = new Map<string, SpindleEvent[]>(streamIds.map((id) => [id, []]));
    if (streamIds.length === 0) return streams;
    const rows: EventRow[] = await manager.query(
      `select event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id, occurred_at
       from ${this.t.events} where stream_id = any($1::text[]) order by stream_id, stream_position`,
      [streamIds],
    );
    for (const row of rows) streams.get(row.stream_id)?.push(toEvent(row));
    return streams;
  }

  // Answers to idempotency keys, in the batch's transaction; a concurrent twin with the same key
  // fails on the primary key.
  async rememberIdempotentMany(
    manager: EntityManager,
    entries: readonly { key: string; fingerprint: string; result: unknown }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await manager.query(
      `insert into ${this.t.idempotency} (key, fingerprint, result)
       select * from unnest($1::text[], $2::text[], ${jsonbElements('$3')})`,
      [
        entries.map((e) => e.key),
        entries.map((e) => e.fingerprint),
        JSON.stringify(entries.map((e) => e.result)),
      ],
    );
  }

  // The answers recorded for these keys.
  async findIdempotentMany(
    manager: EntityManager,
    keys: readonly string[],
  ): Promise<Map<string, { fingerprint: string; result: unknown }>> {
    if (keys.length === 0) return new Map();
    const rows: { key: string; fingerprint: string; result: unknown }[] = await manager.query(
      `select key, fingerprint, result from ${this.t.idempotency} where key = any($1::text[])`,
      [keys],
    );
    return new Map(rows.map((r) => [r.key, { fingerprint: r.fingerprint, result: r.result }]));
  }

  async currentPosition(manager: EntityManager, streamId: string): Promise<number> {
    const rows: { position: number }[] = await manager.query(
      `select position from ${this.t.streams} where stream_id = $1`,
      [streamId],
    );
    return rows[0]?.position ?? 0;
  }
}

// The stream append_conflict named, and where it found it.
function appendConflictOf(e: unknown): { streamId: string; position: number } | undefined {
  const { code, detail } = e as { code?: unknown; detail?: unknown };
  if (code !== APPEND_CONFLICT_SQLSTATE || typeof detail !== 'string') return undefined;
  try {
    const { streamId, position } = JSON.parse(detail) as { streamId?: unknown; position?: unknown };
    return typeof streamId === 'string' && typeof position === 'number' ? { streamId, position } : undefined;
  } catch {
    return undefined;
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

export function toEnvelope(row: EventRow): EventEnvelope {
  return {
    id: row.event_id,
    type: row.type,
    version: row.version,
    streamId: row.stream_id,
    streamPosition: row.stream_position,
    occurredAt: typeof row.occurred_at === 'string' ? row.occurred_at : row.occurred_at.toISOString(),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    data: row.data,
  };
}

// A stored event as the registry reads it (InvalidEventError if it breaks its schema).
export function toEvent(row: EventRow): SpindleEvent {
  return parseEvent(toEnvelope(row));
}
