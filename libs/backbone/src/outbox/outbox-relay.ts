import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus, TopicMessages } from '../bus/message-bus';
import { ADVISORY_LOCK_CLASS } from '../database/advisory-locks';
import { LeaderLock } from '../database/leader-lock';
import { outboxPublished } from '../metrics/backbone-metrics';
import { NOTIFY_CHANNELS, PgNotifications, parseOutboxNotice } from '../database/pg-notifications';
import { writersHorizonSql } from '../database/writer-horizon';

interface OutboxRow {
  position: string;
  topic: string;
  message_key: string;
  payload: unknown;
  headers: Record<string, string>;
}

// What one read saw: the rows to publish next (oldest first), and whether it saw other rows in the
// outbox (held back by an open transaction, or beyond the batch).
interface Batch {
  readonly rows: OutboxRow[];
  readonly others: boolean;
}

export interface OutboxRelayOptions {
  readonly schema: string;
  readonly pollMs: number; // the safety net: an empty outbox is looked at this often
  readonly batchSize?: number;
}

// Rows held back by an older transaction still open are looked at again this soon, then less often.
const HELD_BACK_MS = 2;
// A pass hands back (and takes the lead again) after this long publishing without a break, so a
// leader that lost its session finds out, as its lock is checked at most once a second anyway.
const PASS_MS = 1_000;

// Publishes a schema's outbox to the bus, oldest first, then deletes what it published.
//
// A row is taken only once no transaction that started before it and may write this outbox is
// still open (tx_id below the writers' horizon, writer-horizon.ts), so a row committed "late" with
// a lower position is never overtaken and skipped. A row is also held back while an earlier row
// with the same key is not yet eligible, so per-stream order survives transactions that commit
// out of sequence order.
// A crash between publish and delete publishes again: delivery is at-least-once and consumers
// deduplicate. One relay per schema is active at a time (a session advisory lock); others stand by.
// It is woken by a local commit (wake()) and by Postgres notifying the schema's outbox inserts,
// from any process; with nothing to publish it sleeps `pollMs`. Rows held back by an open
// transaction are looked at again within milliseconds (that transaction commits soon, or is not a
// writer of this outbox at all and the rows become eligible as the horizon moves).
//
// A batch is one statement under load: the statement that deletes a published batch also reads
// the next one. Its snapshot is taken after the publish, so rows committed during the publish are
// taken at once, with no wake needed; a row committed after it wakes the relay (its commit comes
// before its wake). Before, a batch was a read, a delete, another read (often empty) and a look
// for rows left: four statements.
export class OutboxRelay {
  private readonly logger: Logger;
  private readonly table: string;
  private readonly publishedOffsets: string;
  // Takes the next batch; $1 the batch size, $2 positions left out (the ones the same statement
  // deletes, which it still sees). Always one row at least: `others` when no row is eligible.
  private readonly nextBatch: string;
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
    this.nextBatch = `horizon as (select ${writersHorizonSql(options.schema)} as xmin),
       taken as (
         select o.position, o.topic, o.message_key, o.payload, o.headers
         from ${this.table} o, horizon h
         where o.tx_id < h.xmin and o.position <> all($2::bigint[])
           and not exists (
             select 1 from ${this.table} p
             where p.message_key = o.message_key and p.position < o.position and p.tx_id >= h.xmin)
         order by o.position
         limit $1),
       seen as (
         select count(*)::int as n
         from (select 1 from ${this.table} where position <> all($2::bigint[]) limit $1 + 1) s)
       select seen.n as seen, t.position::text as position, t.topic, t.message_key, t.payload, t.headers
       from seen left join taken t on true
       order by t.position`;
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

  // Publishes everything eligible now; returns how many messages went out. Used by tests.
  async drain(): Promise<number> {
    return (await this.publishEligible(() => false)).published;
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
    let pass = { published: 0, heldBack: false, more: false };
    let failed = false;
    try {
      if (await this.leader.hold()) {
        const until = Date.now() + PASS_MS;
        pass = await this.publishEligible(() => this.stopped || Date.now() > until);
      }
    } catch (e) {
      failed = true;
      this.logger.warn(`publish failed, will retry: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    // Held back again with nothing published: that transaction takes longer, look less often.
    this.heldBackMs =
      pass.heldBack && pass.published === 0 ? Math.min(this.heldBackMs * 2, 50) : HELD_BACK_MS;
    const next = failed
      ? Math.max(1_000, this.options.pollMs)
      : this.wakeRequested || pass.more
        ? 0
        : pass.heldBack
          ? this.heldBackMs
          : this.options.pollMs;
    this.schedule(next);
  }

  // Publishes batches until one read finds nothing eligible (or `enough` says to hand back: `more`);
  // `heldBack`: that last read saw rows it could not take yet.
  private async publishEligible(
    enough: () => boolean,
  ): Promise<{ published: number; heldBack: boolean; more: boolean }> {
    let batch = await this.read(() => this.dataSource.query(`with ${this.nextBatch}`, [this.limit, []]));
    let published = 0;
    while (batch.rows.length > 0) {
      if (enough()) return { published, heldBack: false, more: true };
      const rows = batch.rows;
      batch = await this.publish(rows);
      published += rows.length;
    }
    return { published, heldBack: batch.others, more: false };
  }

  private get limit(): number {
    return this.options.batchSize ?? 500;
  }

  // Runs a statement that reads the next batch. A wake heard before it is sent is for a commit its
  // snapshot sees, so only a wake heard after that asks for another read.
  private async read(query: () => Promise<(Partial<OutboxRow> & { seen: number })[]>): Promise<Batch> {
    this.wakeRequested = false;
    const result = await query();
    const rows = result.filter((r): r is OutboxRow & { seen: number } => r.position != null);
    return { rows, others: (result[0]?.seen ?? 0) > rows.length };
  }

  // Publishes `rows`, then deletes them and reads the next batch in one statement.
  private async publish(rows: OutboxRow[]): Promise<Batch> {
    const byTopic = new Map<string, TopicMessages['messages'][number][]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push({ key: row.message_key, value: JSON.stringify(row.payload), headers: row.headers });
      byTopic.set(row.topic, list);
    }
    const published = await this.bus.publish([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    const positions = rows.map((r) => r.position);
    const next = await this.read(() =>
      this.dataSource.query(
        // Gone from the outbox, and where each partition was left (for the read barrier), at once.
        // Consistent reads waiting for this outbox to be published are told when this commits
        // (`notified` is scanned even when the bus reported no offsets: the in-process bus). The
        // statement still sees the rows it deletes, so the next batch leaves them out.
        `with gone as (delete from ${this.table} where position = any($2::bigint[])),
           notified as (select pg_notify('${NOTIFY_CHANNELS.published}', '${this.options.schema}')),
           offsets as (
             insert into ${this.publishedOffsets} as p (topic, partition, "offset", topic_id, published_at)
             select o.topic, o.partition, o."offset", o."topicId", now()
             from notified left join jsonb_to_recordset($3::jsonb)
               as o(topic text, partition int, "offset" bigint, "topicId" text) on true
             where o.topic is not null
             on conflict (topic, partition) do update
               set "offset" = excluded."offset", topic_id = excluded.topic_id, published_at = excluded.published_at),
           ${this.nextBatch}`,
        [this.limit, positions, JSON.stringify(published)],
      ),
    );
    outboxPublished.labels(this.options.schema).inc(rows.length);
    return next;
  }
}
