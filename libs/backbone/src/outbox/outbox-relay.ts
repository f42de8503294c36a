import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus, TopicMessages } from '../bus/message-bus';
import { ADVISORY_LOCK_CLASS } from '../database/advisory-locks';
import { LeaderLock } from '../database/leader-lock';
import { outboxPublished } from '../metrics/backbone-metrics';
import { NOTIFY_CHANNELS, PgNotifications, parseOutboxNotice } from '../database/pg-notifications';

interface OutboxRow {
  position: string;
  topic: string;
  message_key: string;
  payload: unknown;
  headers: Record<string, string>;
}

export interface OutboxRelayOptions {
  readonly schema: string;
  readonly pollMs: number; // the safety net: an empty outbox is looked at this often
  readonly batchSize?: number;
}

// Rows held back by an older transaction still open are looked at again this soon, then less often.
const HELD_BACK_MS = 2;

// Publishes a schema's outbox to the bus, oldest first, then deletes what it published.
//
// A row is taken only once no transaction that started before it is still open
// (tx_id < xmin of the current snapshot), so a row committed "late" with a lower position is
// never overtaken and skipped. A row is also held back while an earlier row with the same key is
// not yet eligible, so per-stream order survives transactions that commit out of sequence order.
// A crash between publish and delete publishes again: delivery is at-least-once and consumers
// deduplicate. One relay per schema is active at a time (a session advisory lock); others stand by.
// It is woken by a local commit (wake()) and by Postgres notifying the schema's outbox inserts,
// from any process; with nothing to publish it sleeps `pollMs`. Rows held back by an open
// transaction are looked at again within milliseconds (that transaction commits soon, or is not a
// writer of this outbox at all and the rows become eligible as the horizon moves).
export class OutboxRelay {
  private readonly logger: Logger;
  private readonly table: string;
  private readonly publishedOffsets: string;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private wakeRequested = false;
  private readonly leader: LeaderLock;
  private inFlight: Promise<void> = Promise.resolve();
  private heldBackMs = HELD_BACK_MS;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    private readonly options: OutboxRelayOptions,
  ) {
    this.table = `"${options.schema}".outbox`;
    this.publishedOffsets = `"${options.schema}".published_offsets`;
    this.logger = new Logger(`outbox-relay:${options.schema}`);
    this.leader = new LeaderLock(
      dataSource,
      ADVISORY_LOCK_CLASS.outboxLeader,
      options.schema,
      this.logger,
      'publishing the outbox',
    );
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
    void PgNotifications.of(this.dataSource)
      .on(NOTIFY_CHANNELS.outbox, (payload) => {
        const { schema } = parseOutboxNotice(payload);
        if (schema === this.options.schema || schema === '') this.wake();
      })
      .then((off) => {
        if (this.stopped) off();
        else this.stopListening = off;
      });
  }

  // Called after a local commit so the relay does not wait for its next poll.
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    clearTimeout(this.timer);
    await this.inFlight.catch(() => undefined);
    await this.leader.release();
  }

  // Publishes everything eligible now; returns how many messages went out. Used by tests and tick().
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.publishBatch();
      total += published;
      if (published < (this.options.batchSize ?? 500)) return total;
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.inFlight = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.wakeRequested = false;
    let published = 0;
    let failed = false;
    let heldBack = false;
    try {
      if (await this.leader.hold()) {
        published = await this.drain();
        if (published === 0) heldBack = await this.anyRows();
      }
    } catch (e) {
      failed = true;
      this.logger.warn(`publish failed, will retry: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    this.heldBackMs = heldBack ? Math.min(this.heldBackMs * 2, 50) : HELD_BACK_MS;
    const next = failed
      ? Math.max(1_000, this.options.pollMs)
      : this.wakeRequested || published > 0
        ? 0
        : heldBack
          ? this.heldBackMs
          : this.options.pollMs;
    this.schedule(next);
  }

  private async anyRows(): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`select 1 from ${this.table} limit 1`);
    return rows.length > 0;
  }

  private async publishBatch(): Promise<number> {
    const limit = this.options.batchSize ?? 500;
    const rows: OutboxRow[] = await this.dataSource.query(
      `with horizon as (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
       select o.position::text as position, o.topic, o.message_key, o.payload, o.headers
       from ${this.table} o, horizon h
       where o.tx_id < h.xmin
         and not exists (
           select 1 from ${this.table} p
           where p.message_key = o.message_key and p.position < o.position and p.tx_id >= h.xmin)
       order by o.position
       limit $1`,
      [limit],
    );
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, TopicMessages['messages'][number][]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push({ key: row.message_key, value: JSON.stringify(row.payload), headers: row.headers });
      byTopic.set(row.topic, list);
    }
    const published = await this.bus.publish([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    // Gone from the outbox, and where each partition was left (for the read barrier), at once.
    await this.dataSource.query(
      // Consistent reads waiting for this outbox to be published are told when this commits
      // (`notified` is scanned even when the bus reported no offsets: the in-process bus).
      `with gone as (delete from ${this.table} where position = any($1::bigint[])),
         notified as (select pg_notify('${NOTIFY_CHANNELS.published}', '${this.options.schema}'))
       insert into ${this.publishedOffsets} as p (topic, partition, "offset", topic_id, published_at)
       select o.topic, o.partition, o."offset", o."topicId", now()
       from notified left join jsonb_to_recordset($2::jsonb)
         as o(topic text, partition int, "offset" bigint, "topicId" text) on true
       where o.topic is not null
       on conflict (topic, partition) do update
         set "offset" = excluded."offset", topic_id = excluded.topic_id, published_at = excluded.published_at`,
      [rows.map((r) => r.position), JSON.stringify(published)],
    );
    outboxPublished.labels(this.options.schema).inc(rows.length);
    return rows.length;
  }
}
