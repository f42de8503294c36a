import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { PoolClient } from 'pg';
import { parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import {
  ADVISORY_LOCK_CLASS,
  OCCURRED_AT_ISO,
  StreamRowTable,
  foldIntoRows,
  toEnvelope,
} from '@spindle/backbone';
import type { EventRow, StreamProjection, StreamRow } from '@spindle/backbone';
import { eventSourceOf } from './event-sources';
import type { EventSource } from './event-sources';

const SUFFIX = '__rebuild';
// A row no event has touched for this many batches is written in the background while the next
// batches are read and folded (a later event makes it dirty again, and it is written again).
const SETTLE_BATCHES = 2;
const PG_NAME_MAX = 63;
// A swap that could not take the live table in time (or deadlocked, which its lock order should
// rule out) rolls back, the projector goes on, and the rebuild catches up again and retries.
const SWAP_RETRYABLE = new Set(['55P03', '40P01']);

export interface RebuildOptions {
  // Events read per statement.
  readonly batchSize?: number;
  // Rows kept in memory; past this, every changed row is written and the oldest half forgotten
  // (read back from the new table if a later event touches them).
  readonly cacheRows?: number;
  // How long the swap waits for the live table's readers and writers before it tries again.
  readonly lockTimeoutMs?: number;
  readonly swapAttempts?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  // Test hook: runs after the new table is loaded and indexed, before the swap.
  readonly beforeSwap?: () => Promise<void>;
}

export interface RebuildProgress {
  readonly phase: 'load' | 'catch-up' | 'swap';
  readonly events: number;
  readonly rows: number;
  readonly elapsedMs: number;
}

export interface RebuildReport {
  readonly projection: string;
  readonly table: string;
  readonly source: string;
  readonly events: number; // events of the projection's types replayed
  readonly invalidEvents: number; // failed validation, skipped (the live consumer dead-letters them)
  readonly rows: number; // rows of the rebuilt table
  readonly refolded: number; // streams replayed whole under the lock (the live table was ahead)
  readonly swapAttempts: number;
  readonly loadMs: number;
  readonly indexMs: number;
  readonly catchUpMs: number;
  readonly lockedMs: number; // how long the live table's readers and writers waited
  readonly totalMs: number;
  readonly eventsPerSecond: number;
}

interface TableShape {
  readonly constraints: readonly { name: string; definition: string; primary: boolean }[];
  readonly indexes: readonly { name: string; definition: string }[];
}

// Rebuilds a stream projection's table from the owner's event store, while the live projector
// keeps serving and writing the old one:
//
//   1. load: replay the owner's `events` in global_position order through the projection's own
//      evolve into a fresh table `<table>__rebuild` (rows folded in memory; rows that have
//      settled are written by COPY on a second connection while the next events are read);
//   2. index it like the live table, and catch up with what was appended meanwhile;
//   3. swap: lock the live table (its users wait, so the projector's checkpoint cannot move),
//      catch up the last events, replay whole any stream the live projector has seen further
//      than the new table (an event that committed late, behind the scan's cursor), then drop the
//      live table and rename the new one into its place, in one transaction.
//
// After the swap the projector goes on from its checkpoint; whatever it delivers that the new
// table already has is skipped by stream position. The table is locked only for the last
// catch-up and the rename: tens to hundreds of milliseconds.
export class ProjectionRebuild<TRow extends StreamRow> {
  private readonly logger: Logger;
  private readonly live: StreamRowTable<TRow>;
  private readonly next: StreamRowTable<TRow>;
  private readonly source: EventSource;
  private readonly batchSize: number;
  private readonly cacheRows: number;
  private readonly started = Date.now();

  // Rows in memory, oldest touched first.
  private readonly cache = new Map<string, TRow | null>();
  // Rows changed since last written, oldest touched first, with the batch that last touched them.
  private readonly dirty = new Map<string, number>();
  // Rows in the new table (or on their way there: queued behind `writing`).
  private readonly written = new Set<string>();
  private batches = 0;
  private writer: QueryRunner | undefined; // the load's background writes, in order
  private writing: Promise<void> = Promise.resolve();
  private writeError: Error | undefined;
  // During a swap: rows written inside its transaction (dirty again if it rolls back), and no
  // row is forgotten, so a rolled-back swap loses nothing it folded.
  private swapWrites: Set<string> | null = null;
  private startedAtInDatabase = new Date(0);
  private cursor = '0';
  private events = 0;
  private invalidEvents = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly projection: StreamProjection<TRow>,
    private readonly options: RebuildOptions = {},
  ) {
    this.logger = new Logger(`rebuild:${projection.name}`);
    this.live = StreamRowTable.of<TRow>(dataSource.manager, projection.definition.entity as Function);
    this.next = this.live.sibling(`${this.live.table}${SUFFIX}`);
    this.source = eventSourceOf(projection.name, projection.topics);
    this.batchSize = options.batchSize ?? 10_000;
    this.cacheRows = options.cacheRows ?? 250_000;
  }

  async run(): Promise<RebuildReport> {
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      const [held] = (await lock.query('select pg_try_advisory_lock($1, hashtext($2)) as locked', [
        ADVISORY_LOCK_CLASS.projectionRebuild,
        this.live.qualifiedName,
      ])) as { locked: boolean }[];
      if (!held?.locked) throw new Error(`a rebuild of ${this.live.qualifiedName} is already running`);
      try {
        return await this.rebuild();
      } finally {
        await this.writing;
        await this.writer?.release().catch(() => undefined);
        // Left over only when the rebuild failed; the next one would drop it anyway.
        await this.dataSource.query(`drop table if exists ${this.next.qualifiedName}`).catch(() => undefined);
        // A session lock outlives the query runner: the connection goes back to the pool holding it.
        await lock
          .query('select pg_advisory_unlock($1, hashtext($2))', [
            ADVISORY_LOCK_CLASS.projectionRebuild,
            this.live.qualifiedName,
          ])
          .catch(() => undefined);
      }
    } finally {
      await lock.release();
    }
  }

  private async rebuild(): Promise<RebuildReport> {
    const manager = this.dataSource.manager;
    // The database's clock, as the projector's inbox records when it applied each event.
    const [now] = await manager.query<{ now: Date }[]>('select now() as now');
    this.startedAtInDatabase = now!.now;
    const shape = await this.shapeOf(this.live.table);
    await manager.query(`drop table if exists ${this.next.qualifiedName}`);
    // Columns, defaults, not-null and check constraints; the key now (the load upserts on it),
    // the other indexes after the load, which is faster than keeping them up to date row by row.
    await manager.query(
      `create table ${this.next.qualifiedName} (like ${this.live.qualifiedName} including defaults including constraints)`,
    );
    for (const c of shape.constraints.filter((c) => c.primary))
      await manager.query(
        `alter table ${this.next.qualifiedName} add constraint "${renamed(c.name)}" ${c.definition}`,
      );

    this.writer = this.dataSource.createQueryRunner();
    await this.writer.connect();

    await this.replay(manager, 'load');
    await this.flush();
    const loadMs = Date.now() - this.started;

    const indexStarted = Date.now();
    for (const c of shape.constraints.filter((c) => !c.primary))
      await manager.query(
        `alter table ${this.next.qualifiedName} add constraint "${renamed(c.name)}" ${c.definition}`,
      );
    for (const index of shape.indexes) await manager.query(this.indexOnNext(index));
    await manager.query(`analyze ${this.next.qualifiedName}`);
    const indexMs = Date.now() - indexStarted;

    const catchUpStarted = Date.now();
    await this.replay(manager, 'catch-up');
    await this.flush();
    const catchUpMs = Date.now() - catchUpStarted;
    await this.options.beforeSwap?.();

    const attempts = this.options.swapAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const swapStarted = Date.now();
      try {
        const refolded = await this.swap(shape);
        const lockedMs = Date.now() - swapStarted;
        const [count] = await manager.query<{ rows: number }[]>(
          `select count(*)::int as rows from ${this.live.qualifiedName}`,
        );
        const totalMs = Date.now() - this.started;
        const report: RebuildReport = {
          projection: this.projection.name,
          table: this.live.qualifiedName,
          source: `"${this.source.schema}".events`,
          events: this.events,
          invalidEvents: this.invalidEvents,
          rows: count?.rows ?? 0,
          refolded,
          swapAttempts: attempt,
          loadMs,
          indexMs,
          catchUpMs,
          lockedMs,
          totalMs,
          eventsPerSecond: Math.round(this.events / Math.max(totalMs / 1000, 0.001)),
        };
        this.logger.log(
          `${report.table}: ${report.events} events -> ${report.rows} rows in ${totalMs} ms (locked ${lockedMs} ms)`,
        );
        return report;
      } catch (e) {
        if (!SWAP_RETRYABLE.has((e as { code?: string }).code ?? '') || attempt >= attempts) throw e;
        this.logger.warn(
          `swap attempt ${attempt} gave way (${(e as Error).message}); catching up, then again`,
        );
        await this.replay(manager, 'catch-up');
        await this.flush();
      }
    }
  }

  private get lockTimeoutMs(): number {
    return this.options.lockTimeoutMs ?? 10_000;
  }

  private async swap(shape: TableShape): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const writes = new Set<string>();
    this.swapWrites = writes;
    try {
      await runner.startTransaction();
      await runner.query(`set local lock_timeout = ${Math.round(this.lockTimeoutMs)}`);
      // Readers and writers of the live table wait from here to the commit; so does the
      // projector's checkpoint, which commits with its rows. The strongest lock at once: a weaker
      // one (readers still allowed) deadlocks with a projector transaction that read the table
      // before the lock and writes it after, when the drop below asks for this one.
      await runner.query(`lock table ${this.live.qualifiedName} in access exclusive mode`);
      await this.replay(runner.manager, 'swap');
      await this.flush(runner);
      const refolded = await this.refoldStreamsBehind(runner.manager);
      await runner.query(`drop table ${this.live.qualifiedName}`);
      await runner.query(`alter table ${this.next.qualifiedName} rename to "${this.live.table}"`);
      for (const c of shape.constraints)
        await runner.query(
          `alter table ${this.live.qualifiedName} rename constraint "${renamed(c.name)}" to "${c.name}"`,
        );
      for (const index of shape.indexes)
        await runner.query(
          `alter index "${this.live.schema}"."${renamed(index.name)}" rename to "${index.name}"`,
        );
      await runner.commitTransaction();
      return refolded;
    } catch (e) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      for (const id of writes) this.dirty.set(id, this.batches);
      throw e;
    } finally {
      this.swapWrites = null;
      await runner.release();
    }
  }

  // Reads the owner's events past the cursor until it has them all, folding each batch into the
  // cache; the next batch is read while this one is folded.
  private async replay(manager: EntityManager, phase: RebuildProgress['phase']): Promise<void> {
    let pending = this.readAfter(manager, this.cursor);
    for (;;) {
      const rows = await pending;
      if (rows.length === 0) return;
      this.cursor = rows[rows.length - 1]!.global_position;
      const more = rows.length === this.batchSize;
      if (more) pending = this.readAfter(manager, this.cursor);
      await this.fold(manager, this.parse(rows));
      this.options.onProgress?.({
        phase,
        events: this.events,
        rows: this.written.size,
        elapsedMs: Date.now() - this.started,
      });
      if (!more) return;
    }
  }

  private readAfter(
    manager: EntityManager,
    cursor: string,
  ): Promise<(EventRow & { global_position: string })[]> {
    return manager.query(
      `select global_position, event_id, stream_id, stream_position, type, version, data, correlation_id,
              causation_id, ${OCCURRED_AT_ISO} as occurred_at
       from "${this.source.schema}".events
       where global_position > $1::bigint and type = any($2::text[])
       order by global_position limit $3`,
      [cursor, this.source.types, this.batchSize],
    );
  }

  // The same validation the live consumer applies to what it reads from the bus.
  private parse(rows: readonly EventRow[]): SpindleEvent[] {
    const events: SpindleEvent[] = [];
    for (const row of rows) {
      try {
        events.push(parseEvent(toEnvelope(row)));
      } catch (e) {
        this.invalidEvents++;
        this.logger.warn(`skipping event ${row.event_id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.events += events.length;
    return events;
  }

  private async fold(manager: EntityManager, events: readonly SpindleEvent[]): Promise<void> {
    this.batches++;
    const touched = [...new Set(events.map((e) => e.streamId))];
    const forgotten = touched.filter((id) => !this.cache.has(id) && this.written.has(id));
    for (const row of await this.next.load(manager, forgotten)) this.cache.set(row.streamId, row);
    for (const id of foldIntoRows(this.projection.definition, this.cache, events)) {
      // Most recently touched last, in both: the oldest settle and are forgotten first.
      const row = this.cache.get(id)!;
      this.cache.delete(id);
      this.cache.set(id, row);
      this.dirty.delete(id);
      this.dirty.set(id, this.batches);
    }
    if (this.swapWrites) return; // everything is written in the swap's transaction
    this.writeInBackground(this.settledRows());
    if (this.cache.size > this.cacheRows) {
      await this.flush();
      for (const id of this.cache.keys()) {
        if (this.cache.size <= this.cacheRows / 2) break;
        this.cache.delete(id);
      }
    }
  }

  // Dirty rows untouched for SETTLE_BATCHES batches, oldest first; they are no longer dirty.
  private settledRows(): TRow[] {
    const rows: TRow[] = [];
    for (const [id, batch] of this.dirty) {
      if (batch > this.batches - SETTLE_BATCHES) break;
      this.dirty.delete(id);
      rows.push(this.cache.get(id)!);
    }
    return rows;
  }

  private takeDirtyRows(): TRow[] {
    const rows = [...this.dirty.keys()].map((id) => this.cache.get(id)!);
    this.dirty.clear();
    return rows;
  }

  // Queued behind earlier writes on the writer's connection, so a row written twice ends with
  // its later version. A failure surfaces at the next flush.
  private writeInBackground(rows: TRow[]): void {
    if (rows.length === 0) return;
    const runner = this.writer!;
    const write = this.planWrite(rows);
    this.writing = this.writing
      .then(async () => {
        if (this.writeError === undefined) await write(runner);
      })
      .catch((e: unknown) => {
        this.writeError ??= e instanceof Error ? e : new Error(JSON.stringify(e));
      });
  }

  // Everything dirty, written before this returns: in the background writer's order during the
  // load, or inside the swap's transaction when one is given.
  private async flush(swap?: QueryRunner): Promise<void> {
    const rows = this.takeDirtyRows();
    if (swap) {
      await this.writing;
      this.throwWriteError();
      for (const row of rows) this.swapWrites?.add(row.streamId);
      await this.planWrite(rows)(swap);
      return;
    }
    this.writeInBackground(rows);
    await this.writing;
    this.throwWriteError();
  }

  // Rows new to the table go in by COPY; rows written before (and changed since) are upserted.
  private planWrite(rows: readonly TRow[]): (runner: QueryRunner) => Promise<void> {
    const fresh: TRow[] = [];
    const again: TRow[] = [];
    for (const row of rows) {
      (this.written.has(row.streamId) ? again : fresh).push(row);
      this.written.add(row.streamId);
    }
    return async (runner) => {
      await this.next.copyIn((await runner.connect()) as PoolClient, fresh);
      await this.next.upsert(runner.manager, again);
    };
  }

  private throwWriteError(): void {
    if (this.writeError) throw this.writeError;
  }

  // Under the lock: streams whose live row is further along than the rebuilt one (or missing from
  // it) had an event commit behind the scan's cursor; each is read whole and folded afresh. Only
  // an event the live projector applied after the rebuild began can be such a one (anything it
  // applied earlier was committed before the first read), so only the streams of those events,
  // found through the projector's inbox, are compared: the lock lasts as long as the recent
  // activity takes to check, not as long as the table is large.
  private async refoldStreamsBehind(manager: EntityManager): Promise<number> {
    const id = this.live.streamIdColumn;
    const position = this.live.streamPositionColumn;
    const behind: { stream_id: string }[] = await manager.query(
      `with recent as (
         select distinct e.stream_id from "${this.live.schema}".consumer_inbox i
         join "${this.source.schema}".events e on e.event_id = i.event_id
         where i.consumer = $1 and i.applied_at >= $2
       )
       select o."${id}" as stream_id from ${this.live.qualifiedName} o
       join recent r on r.stream_id = o."${id}"
       left join ${this.next.qualifiedName} n on n."${id}" = o."${id}"
       where n."${id}" is null or n."${position}" < o."${position}"`,
      [this.projection.name, this.startedAtInDatabase],
    );
    if (behind.length === 0) return 0;
    const streamIds = behind.map((b) => b.stream_id);
    const rows: EventRow[] = await manager.query(
      `select event_id, stream_id, stream_position, type, version, data, correlation_id, causation_id,
              ${OCCURRED_AT_ISO} as occurred_at
       from "${this.source.schema}".events
       where stream_id = any($1::text[]) and type = any($2::text[])
       order by stream_id, stream_position`,
      [streamIds, this.source.types],
    );
    const fresh = new Map<string, TRow | null>();
    const changed = foldIntoRows(this.projection.definition, fresh, this.parse(rows));
    const refolded = [...changed].map((s) => fresh.get(s)!);
    await this.next.upsert(manager, refolded);
    for (const row of refolded) if (this.cache.has(row.streamId)) this.cache.set(row.streamId, row);
    this.logger.log(`${streamIds.length} stream(s) replayed whole under the lock`);
    return streamIds.length;
  }

  private async shapeOf(table: string): Promise<TableShape> {
    const constraints: { name: string; definition: string; type: string }[] = await this.dataSource.query(
      `select c.conname as name, pg_get_constraintdef(c.oid) as definition, c.contype as type
       from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
       where n.nspname = $1 and t.relname = $2 and c.contype in ('p', 'u', 'x')`,
      [this.live.schema, table],
    );
    const indexes: { name: string; definition: string }[] = await this.dataSource.query(
      `select indexname as name, indexdef as definition from pg_indexes
       where schemaname = $1 and tablename = $2`,
      [this.live.schema, table],
    );
    const ownedByConstraint = new Set(constraints.map((c) => c.name));
    for (const name of [...constraints.map((c) => c.name), ...indexes.map((i) => i.name)])
      if (renamed(name).length > PG_NAME_MAX)
        throw new Error(`index name ${name} is too long to rebuild beside`);
    return {
      constraints: constraints.map((c) => ({
        name: c.name,
        definition: c.definition,
        primary: c.type === 'p',
      })),
      indexes: indexes.filter((i) => !ownedByConstraint.has(i.name)),
    };
  }

  // `CREATE [UNIQUE] INDEX name ON schema.table USING ...` -> the same on the new table.
  private indexOnNext(index: { name: string; definition: string }): string {
    const using = index.definition.indexOf(' USING ');
    if (using < 0) throw new Error(`cannot read index ${index.name}: ${index.definition}`);
    const unique = /^CREATE UNIQUE /i.test(index.definition) ? 'unique ' : '';
    return `create ${unique}index "${renamed(index.name)}" on ${this.next.qualifiedName}${index.definition.slice(using)}`;
  }
}

function renamed(name: string): string {
  return `${name}${SUFFIX}`;
}
