import type { StreamRow } from '@spindle/backbone';

// A row no event has touched for this many batches is written in the background while the next
// batches are read and folded (a later event makes it dirty again, and it is written again).
const SETTLE_BATCHES = 2;

// The rebuild's rows in memory, and what it knows about each: changed since last written
// (dirty), already in the new table (written), or forgotten to bound memory (written, then
// dropped from here; read back when a later event touches it). Pure bookkeeping, no I/O: the
// rebuild reads back, folds and writes what this tells it to.
export class RowCache<TRow extends StreamRow> {
  // Rows in memory, oldest touched first; the map the projection's evolve folds into.
  readonly rows = new Map<string, TRow | null>();
  // Rows changed since last written, oldest touched first, with the batch that last touched them.
  private readonly dirty = new Map<string, number>();
  // Rows in the new table (or on their way there: queued behind earlier writes).
  private readonly written = new Set<string>();
  private batches = 0;

  constructor(private readonly capacity: number) {}

  // Rows in the new table, or on their way there.
  get writtenCount(): number {
    return this.written.size;
  }

  get overCapacity(): boolean {
    return this.rows.size > this.capacity;
  }

  // Starts the next batch; answers the streams among `streamIds` that were written and forgotten,
  // which must be read back (`restore`) before the batch is folded.
  beginBatch(streamIds: Iterable<string>): string[] {
    this.batches++;
    return [...new Set(streamIds)].filter((id) => !this.rows.has(id) && this.written.has(id));
  }

  restore(rows: Iterable<TRow>): void {
    for (const row of rows) this.rows.set(row.streamId, row);
  }

  // The streams a batch changed: most recently touched last, in both orders, so the oldest settle
  // and are forgotten first.
  touched(streamIds: Iterable<string>): void {
    for (const id of streamIds) {
      const row = this.rows.get(id)!;
      this.rows.delete(id);
      this.rows.set(id, row);
      this.dirty.delete(id);
      this.dirty.set(id, this.batches);
    }
  }

  // Dirty rows untouched for SETTLE_BATCHES batches, oldest first; they are no longer dirty.
  takeSettled(): TRow[] {
    const rows: TRow[] = [];
    for (const [id, batch] of this.dirty) {
      if (batch > this.batches - SETTLE_BATCHES) break;
      this.dirty.delete(id);
      rows.push(this.rows.get(id)!);
    }
    return rows;
  }

  // Every dirty row; none is dirty afterwards.
  takeDirty(): TRow[] {
    const rows = [...this.dirty.keys()].map((id) => this.rows.get(id)!);
    this.dirty.clear();
    return rows;
  }

  // Rows whose write was lost (a swap that rolled back): dirty again.
  markDirty(streamIds: Iterable<string>): void {
    for (const id of streamIds) this.dirty.set(id, this.batches);
  }

  // Splits rows about to be written into those new to the table (COPY) and those written before
  // and changed since (upsert); all of them count as written from here on.
  planWrite(rows: readonly TRow[]): { fresh: TRow[]; again: TRow[] } {
    const fresh: TRow[] = [];
    const again: TRow[] = [];
    for (const row of rows) {
      (this.written.has(row.streamId) ? again : fresh).push(row);
      this.written.add(row.streamId);
    }
    return { fresh, again };
  }

  // Forgets the oldest rows until half the capacity is left. Only once nothing is dirty (after a
  // flush): a forgotten row is read back from the table.
  evictOldest(): void {
    for (const id of this.rows.keys()) {
      if (this.rows.size <= this.capacity / 2) break;
      this.rows.delete(id);
    }
  }

  // Newer versions of rows written elsewhere (refolded under the swap's lock), for those in memory.
  replaceCached(rows: Iterable<TRow>): void {
    for (const row of rows) if (this.rows.has(row.streamId)) this.rows.set(row.streamId, row);
  }
}
