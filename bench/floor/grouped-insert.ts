import type { Pool } from 'pg';

export interface FloorRow {
  readonly id: string;
  readonly body: unknown;
}

// The floors' group commit: one insert in flight; the rows that arrive meanwhile go together in
// the next, as Spindle's intake does. Each caller is answered once its row is committed;
// `committed` then sees each committed batch (the start floor publishes it).
export function groupedInsert(
  pool: Pool,
  table: string,
  committed?: (batch: readonly FloorRow[]) => void,
): (row: FloorRow) => Promise<void> {
  let waiting: (FloorRow & { done: (e?: Error) => void })[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        await pool.query(`insert into ${table} (id, body) select * from unnest($1::uuid[], $2::jsonb[])`, [
          batch.map((b) => b.id),
          batch.map((b) => JSON.stringify(b.body)),
        ]);
        for (const b of batch) b.done();
        committed?.(batch);
      } catch (e) {
        for (const b of batch) b.done(e instanceof Error ? e : new Error(String(e)));
      }
    }
    flushing = false;
  };
  return (row) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ ...row, done: (e) => (e ? reject(e) : resolve()) });
      if (!flushing) void flush();
    });
}
