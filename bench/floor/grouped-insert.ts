import type { Pool } from 'pg';

export interface FloorRow {
  readonly id: string;
  readonly body: unknown;
}

// The floors' batching: one flush in flight; the items that arrive meanwhile go together in the
// next, as Spindle's group commit and coalescing producer do. Each caller is answered once its
// batch is flushed.
export function grouped<T>(flush: (batch: readonly T[]) => Promise<void>): (item: T) => Promise<void> {
  let waiting: { item: T; done: (e?: Error) => void }[] = [];
  let flushing = false;
  const run = async (): Promise<void> => {
    flushing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        await flush(batch.map((b) => b.item));
        for (const b of batch) b.done();
      } catch (e) {
        for (const b of batch) b.done(e instanceof Error ? e : new Error(String(e)));
      }
    }
    flushing = false;
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, done: (e) => (e ? reject(e) : resolve()) });
      if (!flushing) void run();
    });
}

// Rows in one multi-row insert: one statement, one commit.
export async function insertRows(pool: Pool, table: string, rows: readonly FloorRow[]): Promise<void> {
  await pool.query(`insert into ${table} (id, body) select * from unnest($1::uuid[], $2::jsonb[])`, [
    rows.map((r) => r.id),
    rows.map((r) => JSON.stringify(r.body)),
  ]);
}

// The floors' group commit: rows grouped as above, each batch in one insert; `committed` then
// sees each committed batch (the start floor publishes it).
export function groupedInsert(
  pool: Pool,
  table: string,
  committed?: (batch: readonly FloorRow[]) => void,
): (row: FloorRow) => Promise<void> {
  return grouped<FloorRow>(async (batch) => {
    await insertRows(pool, table, batch);
    committed?.(batch);
  });
}
