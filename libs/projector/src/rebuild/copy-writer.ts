import type { PoolClient } from 'pg';
import type { QueryRunner } from 'typeorm';
import type { StreamRow, StreamRowTable } from '@spindle/backbone';

// Rows bound for the new table: those new to it, and those written before and changed since.
export interface RowWrite<TRow> {
  readonly fresh: readonly TRow[];
  readonly again: readonly TRow[];
}

// Rows new to the table go in by COPY (several times faster than an insert); rows written before
// are upserted.
export async function writeRows<TRow extends StreamRow>(
  table: StreamRowTable<TRow>,
  runner: QueryRunner,
  write: RowWrite<TRow>,
): Promise<void> {
  await table.copyIn((await runner.connect()) as PoolClient, write.fresh);
  await table.upsert(runner.manager, write.again);
}

// Writes a rebuild's settled rows on a connection of its own while the next events are read and
// folded. Writes run one after the other in the order they were queued, so a row written twice
// ends with its later version. A failure stops the writes after it and surfaces at the next drain.
export class CopyWriter<TRow extends StreamRow> {
  private writing: Promise<void> = Promise.resolve();
  private error: Error | undefined;

  constructor(
    private readonly table: StreamRowTable<TRow>,
    private readonly runner: QueryRunner,
  ) {}

  enqueue(write: RowWrite<TRow>): void {
    if (write.fresh.length + write.again.length === 0) return;
    this.writing = this.writing
      .then(async () => {
        if (this.error === undefined) await writeRows(this.table, this.runner, write);
      })
      .catch((e: unknown) => {
        this.error ??= e instanceof Error ? e : new Error(JSON.stringify(e));
      });
  }

  // Everything queued so far is written, or its failure thrown.
  async drain(): Promise<void> {
    await this.writing;
    if (this.error) throw this.error;
  }

  // Waits for what is queued (a failure was reported by drain, or does not matter any more) and
  // gives the connection back.
  async close(): Promise<void> {
    await this.writing;
    await this.runner.release().catch(() => undefined);
  }
}
