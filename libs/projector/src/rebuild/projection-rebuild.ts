import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ADVISORY_LOCK_CLASS, StreamRowTable } from '@spindle/backbone';
import type { StreamProjection, StreamRow } from '@spindle/backbone';
import { CopyWriter } from './copy-writer';
import { EventReader } from './event-reader';
import { EventReplay } from './event-replay';
import { eventSourceOf } from './event-sources';
import type { EventSource } from './event-sources';
import type { RebuildOptions, RebuildReport } from './rebuild-report';
import { RowCache } from './row-cache';
import { isRetryableSwapFailure, streamsBehind, underTableLock } from './swap';
import { TableClone } from './table-clone';
import { REBUILD_SUFFIX } from './table-shape';

export type { RebuildOptions, RebuildProgress, RebuildReport } from './rebuild-report';

// Rebuilds a stream projection's table from the owner's event store, while the live projector
// keeps serving and writing the old one:
//
//   1. load: replay the owner's `events` in global_position order through the projection's own
//      evolve into a fresh table `<table>__rebuild` (rows folded in memory, `RowCache`; rows that
//      have settled are written by COPY on a second connection while the next events are read,
//      `CopyWriter`; the fold itself is `EventReplay`);
//   2. index it like the live table (`TableClone`), and catch up with what was appended meanwhile;
//   3. swap (`swap.ts`): lock the live table (its users wait, so the projector's checkpoint cannot
//      move), catch up the last events, replay whole any stream the live projector has seen
//      further than the new table (an event that committed late, behind the scan's cursor), then
//      drop the live table and rename the new one into its place, in one transaction.
//
// After the swap the projector goes on from its checkpoint; whatever it delivers that the new
// table already has is skipped by stream position. The table is locked only for the last
// catch-up and the rename: tens to hundreds of milliseconds. This class holds the phases together:
// one rebuild per table at a time, the retries of the swap, and the report.
export class ProjectionRebuild<TRow extends StreamRow> {
  private readonly logger: Logger;
  private readonly live: StreamRowTable<TRow>;
  private readonly next: StreamRowTable<TRow>;
  private readonly source: EventSource;
  private readonly reader: EventReader;
  private readonly cache: RowCache<TRow>;
  private readonly started = Date.now();
  private writer: CopyWriter<TRow> | undefined; // the load's background writes, in order

  constructor(
    private readonly dataSource: DataSource,
    private readonly projection: StreamProjection<TRow>,
    private readonly options: RebuildOptions = {},
  ) {
    this.logger = new Logger(`rebuild:${projection.name}`);
    this.live = StreamRowTable.of<TRow>(dataSource.manager, projection.definition.entity as Function);
    this.next = this.live.sibling(`${this.live.table}${REBUILD_SUFFIX}`);
    this.source = eventSourceOf(projection.name, projection.topics);
    this.reader = new EventReader(this.source, options.batchSize ?? 10_000, this.logger);
    this.cache = new RowCache<TRow>(options.cacheRows ?? 250_000);
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
        await this.writer?.close();
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
    const startedAtInDatabase = now!.now;
    const clone = await TableClone.create(manager, this.live, this.next);

    const writerRunner = this.dataSource.createQueryRunner();
    this.writer = new CopyWriter(this.next, writerRunner);
    await writerRunner.connect();
    const replay = new EventReplay<TRow>({
      definition: this.projection.definition,
      reader: this.reader,
      cache: this.cache,
      table: this.next,
      writer: this.writer,
      onBatch: (phase) =>
        this.options.onProgress?.({
          phase,
          events: this.reader.events,
          rows: this.cache.writtenCount,
          elapsedMs: Date.now() - this.started,
        }),
    });

    await replay.replay(manager, 'load');
    await replay.flush();
    const loadMs = Date.now() - this.started;

    const indexStarted = Date.now();
    await clone.index(manager);
    const indexMs = Date.now() - indexStarted;

    const catchUpStarted = Date.now();
    await replay.replay(manager, 'catch-up');
    await replay.flush();
    const catchUpMs = Date.now() - catchUpStarted;
    await this.options.beforeSwap?.();

    const attempts = this.options.swapAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const swapStarted = Date.now();
      try {
        const refolded = await this.swap(replay, clone, startedAtInDatabase);
        const lockedMs = Date.now() - swapStarted;
        const [count] = await manager.query<{ rows: number }[]>(
          `select count(*)::int as rows from ${this.live.qualifiedName}`,
        );
        const totalMs = Date.now() - this.started;
        const report: RebuildReport = {
          projection: this.projection.name,
          table: this.live.qualifiedName,
          source: `"${this.source.schema}".events`,
          events: this.reader.events,
          invalidEvents: this.reader.invalidEvents,
          rows: count?.rows ?? 0,
          refolded,
          swapAttempts: attempt,
          loadMs,
          indexMs,
          catchUpMs,
          lockedMs,
          totalMs,
          eventsPerSecond: Math.round(this.reader.events / Math.max(totalMs / 1000, 0.001)),
        };
        this.logger.log(
          `${report.table}: ${report.events} events -> ${report.rows} rows in ${totalMs} ms (locked ${lockedMs} ms)`,
        );
        return report;
      } catch (e) {
        if (!isRetryableSwapFailure(e) || attempt >= attempts) throw e;
        this.logger.warn(
          `swap attempt ${attempt} gave way (${(e as Error).message}); catching up, then again`,
        );
        await replay.replay(manager, 'catch-up');
        await replay.flush();
      }
    }
  }

  // Under the live table's lock: the last catch-up, the streams the live table has further along
  // replayed whole, and the rename. Answers how many streams were replayed whole.
  private swap(replay: EventReplay<TRow>, clone: TableClone<TRow>, since: Date): Promise<number> {
    const lockTimeoutMs = this.options.lockTimeoutMs ?? 10_000;
    return replay.duringSwap(() =>
      underTableLock(this.dataSource, this.live.qualifiedName, lockTimeoutMs, async (runner) => {
        await replay.replay(runner.manager, 'swap');
        await replay.flush(runner);
        const behind = await streamsBehind(runner.manager, {
          live: this.live,
          next: this.next,
          source: this.source,
          consumer: this.projection.name,
          since,
        });
        const refolded = await replay.refold(runner.manager, behind);
        if (refolded > 0) this.logger.log(`${refolded} stream(s) replayed whole under the lock`);
        await clone.replaceLive(runner.manager);
        await this.projection.afterRebuild?.(runner.manager);
        return refolded;
      }),
    );
  }
}
