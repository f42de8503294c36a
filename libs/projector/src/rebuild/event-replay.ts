import type { EntityManager, QueryRunner } from 'typeorm';
import { foldIntoRows } from '@spindle/backbone';
import type { StreamProjectionDefinition, StreamRow, StreamRowTable } from '@spindle/backbone';
import type { SpindleEvent } from '@spindle/contracts';
import { writeRows } from './copy-writer';
import type { CopyWriter } from './copy-writer';
import type { EventReader } from './event-reader';
import type { RebuildProgress } from './rebuild-report';
import type { RowCache } from './row-cache';

export interface EventReplayParts<TRow extends StreamRow> {
  readonly definition: StreamProjectionDefinition<TRow>;
  readonly reader: EventReader;
  readonly cache: RowCache<TRow>;
  readonly table: StreamRowTable<TRow>; // the new table
  readonly writer: CopyWriter<TRow>;
  readonly onBatch: (phase: RebuildProgress['phase']) => void;
}

// The fold of a rebuild: reads the owner's events past its cursor, folds them into the row cache
// with the projection's own evolve, and sends rows to the new table as they settle (in the
// background) or when asked to flush (in the background writer's order, or inside the swap's
// transaction). During a swap nothing is written in the background nor forgotten, and what the
// swap wrote becomes dirty again if it rolls back: a failed swap loses nothing it folded.
export class EventReplay<TRow extends StreamRow> {
  private cursor = '0';
  private swapWrites: Set<string> | null = null;

  constructor(private readonly parts: EventReplayParts<TRow>) {}

  // Reads until it has every event past the cursor; the next batch is read while one is folded.
  async replay(manager: EntityManager, phase: RebuildProgress['phase']): Promise<void> {
    const { reader } = this.parts;
    let pending = reader.readAfter(manager, this.cursor);
    for (;;) {
      const rows = await pending;
      if (rows.length === 0) return;
      this.cursor = rows[rows.length - 1]!.global_position;
      const more = rows.length === reader.batchSize;
      if (more) pending = reader.readAfter(manager, this.cursor);
      await this.fold(manager, reader.parse(rows));
      this.parts.onBatch(phase);
      if (!more) return;
    }
  }

  // Everything dirty, written before this returns: in the background writer's order, or inside
  // the swap's transaction when its runner is given.
  async flush(swap?: QueryRunner): Promise<void> {
    const { cache, writer, table } = this.parts;
    const rows = cache.takeDirty();
    if (swap) {
      await writer.drain();
      for (const row of rows) this.swapWrites?.add(row.streamId);
      await writeRows(table, swap, cache.planWrite(rows));
      return;
    }
    writer.enqueue(cache.planWrite(rows));
    await writer.drain();
  }

  // Runs a swap: what it writes is remembered until it ends, and dirty again if it failed.
  async duringSwap<T>(swap: () => Promise<T>): Promise<T> {
    const writes = new Set<string>();
    this.swapWrites = writes;
    try {
      return await swap();
    } catch (e) {
      this.parts.cache.markDirty(writes);
      throw e;
    } finally {
      this.swapWrites = null;
    }
  }

  // Folds these streams' events afresh into rows of their own and writes them (under the swap's
  // lock, for streams the live table had further along); answers how many streams it replayed.
  async refold(manager: EntityManager, streamIds: readonly string[]): Promise<number> {
    if (streamIds.length === 0) return 0;
    const { definition, reader, cache, table } = this.parts;
    const fresh = new Map<string, TRow | null>();
    const changed = foldIntoRows(
      definition,
      fresh,
      reader.parse(await reader.readStreams(manager, streamIds)),
    );
    const refolded = [...changed].map((s) => fresh.get(s)!);
    await table.upsert(manager, refolded);
    cache.replaceCached(refolded);
    return streamIds.length;
  }

  private async fold(manager: EntityManager, events: readonly SpindleEvent[]): Promise<void> {
    const { definition, cache, table, writer } = this.parts;
    const forgotten = cache.beginBatch(events.map((e) => e.streamId));
    cache.restore(await table.load(manager, forgotten));
    cache.touched(foldIntoRows(definition, cache.rows, events));
    if (this.swapWrites) return; // everything is written in the swap's transaction
    writer.enqueue(cache.planWrite(cache.takeSettled()));
    if (cache.overCapacity) {
      await this.flush();
      cache.evictOldest();
    }
  }
}
