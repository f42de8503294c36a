import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus, TopicMessages } from '../bus/message-bus';
import { ADVISORY_LOCK_CLASS } from '../database/advisory-locks';
import { LeaderLock } from '../database/leader-lock';
import { outboxPublished } from '../metrics/backbone-metrics';

interface OutboxRow {
  position: string;
  topic: string;
  message_key: string;
  payload: unknown;
  headers: Record<string, string>;
}

export interface OutboxRelayOptions {
  readonly schema: string;
  readonly pollMs: number;
  readonly batchSize?: number;
}

// Publishes a schema's outbox to the bus, oldest first, then deletes what it published.
//
// A row is taken only once no transaction that started before it is still open
// (tx_id < xmin of the current snapshot), so a row committed "late" with a lower position is
// never overtaken and skipped. A row is also held back while an earlier row with the same key is
// not yet eligible, so per-stream order survives transactions that commit out of sequence order.
// A crash between publish and delete publishes again: delivery is at-least-once and consumers
// deduplicate. One relay per schema is active at a time (a session advisory lock); others stand by.
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
    try {
      if (await this.leader.hold()) published = await this.drain();
    } catch (e) {
      failed = true;
      this.logger.warn(`publish failed, will retry: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    const next = failed
      ? Math.max(1_000, this.options.pollMs)
      : this.wakeRequested || published > 0
        ? 0
        : this.options.pollMs;
    this.schedule(next);
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
      `with gone as (delete from ${this.table} where position = any($1::bigint[]))
       insert into ${this.publishedOffsets} as p (topic, partition, "offset", topic_id, published_at)
       select topic, partition, "offset", "topicId", now()
       from jsonb_to_recordset($2::jsonb) as o(topic text, partition int, "offset" bigint, "topicId" text)
       on conflict (topic, partition) do update
         set "offset" = excluded."offset", topic_id = excluded.topic_id, published_at = excluded.published_at`,
      [rows.map((r) => r.position), JSON.stringify(published)],
    );
    outboxPublished.labels(this.options.schema).inc(rows.length);
    return rows.length;
  }
}
