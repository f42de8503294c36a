import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

// A table counts as grown once it holds at least this many rows...
export const GROWN_MIN_ROWS = 1_000;
// ...and at least this many times the rows the planner last counted (pg_class.reltuples, which
// ANALYZE and VACUUM set; -1 before either ever ran).
export const GROWN_FACTOR = 2;
// How often a schema that ran statements meanwhile is looked at (autovacuum's naptime is 60 s)...
export const GROWN_CHECK_MS = 2_000;
// ...once it ran at least this many since the last look. What this is for is fast growth, hundreds
// of statements a second; an idle Spindle's trickle (a worker's heartbeat written every second)
// made every owner look every 2 s. A table that grows slowly is left to autovacuum: its next round
// comes before a stale plan has scanned much.
export const GROWN_MIN_STATEMENTS = 100;

// Analyzes a schema's tables that grew to several times what the planner knows of them, at once
// rather than at autovacuum's next round, so that no statement keeps a plan made for a far smaller
// table.
//
// A prepared statement's plan is cached per connection (prepared-statements.ts). Postgres makes
// it generic after five executions when that costs no more than the custom ones, and keeps it
// until the table's statistics change. In a young database autovacuum analyzes each table while
// it holds a few dozen rows, where a scan of the whole table is the cheapest plan for anything: the
// event store's read of a few streams, a read model's rows by stream id and the stream positions'
// claim were planned so, and kept reading the whole table as it grew, until autovacuum's next
// round, up to a minute later. An ANALYZE sends the invalidation that makes every connection plan
// again, on the table as it is now: indexed look-ups from then on. It also gives a young table its
// columns' first statistics (without them the dispatcher's count of placed jobs took half a
// backlog of queued jobs for placed ones, and read all of them). After 5,030 submits in 10 s,
// 5.7 million rows had been read by such scans; 1.5 million with this (BENCHMARKS.md, 2026-12-06).
//
// One statement every GROWN_CHECK_MS at most, and none until the schema ran GROWN_MIN_STATEMENTS
// of its own since the last look (an idle Spindle stays idle). Once autovacuum keeps up (it
// analyzes a table that changed by a tenth), nothing here grows by GROWN_FACTOR any more and the
// check finds nothing.
export class GrowingTableAnalyzer {
  private readonly logger = new Logger('planner-statistics');
  private timer: NodeJS.Timeout | undefined;
  private seen = 0;
  private running = false;
  private sent = 0; // statements the looks sent
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    // How many statements the data source has run so far: no check while it stays the same.
    private readonly statementsRun: () => number,
  ) {}

  start(): void {
    if (this.timer) return;
    // The first look waits for activity too (start-up's own statements, migrations, are not).
    this.seen = this.statementsRun();
    this.timer = setInterval(() => {
      // One look at a time (an ANALYZE of a large table may outlast the interval).
      const before = this.statementsRun();
      if (this.running || before - this.seen < GROWN_MIN_STATEMENTS) return;
      this.running = true;
      const sentBefore = this.sent;
      this.inFlight = this.analyzeGrown()
        .catch((e: unknown) =>
          this.logger.warn(`${this.schema}: ${e instanceof Error ? e.message : String(e)}`),
        )
        .finally(() => {
          // Its own statements are not activity; anyone else's meanwhile is.
          this.seen = before + (this.sent - sentBefore);
          this.running = false;
        });
    }, GROWN_CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  // Analyzes the schema's grown tables now; returns their names. `skip_locked`: a table someone
  // holds a conflicting lock on (a rebuild's swap) is left for the next check.
  async analyzeGrown(): Promise<string[]> {
    this.sent++;
    const grown: { table: string }[] = await this.dataSource.query(
      `select s.relname as "table" from pg_stat_user_tables s join pg_class c on c.oid = s.relid
       where s.schemaname = $1 and s.n_live_tup >= $2 and s.n_live_tup >= $3 * greatest(c.reltuples, 0)`,
      [this.schema, GROWN_MIN_ROWS, GROWN_FACTOR],
    );
    for (const { table } of grown) {
      this.sent++;
      await this.dataSource.query(`analyze (skip_locked) "${this.schema}"."${table.replace(/"/g, '""')}"`);
    }
    return grown.map((g) => g.table);
  }
}
