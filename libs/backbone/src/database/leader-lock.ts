import type { Logger } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';

// Leadership among every process on one database: a session advisory lock (class, name) held on
// a connection of its own. A lost session loses its lock, so the holder checks now and then (at
// most once a second) that its session is still alive, and tries again from scratch if not.
export class LeaderLock {
  private session: QueryRunner | undefined;
  private checkedAt = 0;
  private since = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly lockClass: number,
    // null: the class alone names the lock (one leader per database).
    private readonly name: string | null,
    private readonly logger: Logger,
    private readonly duty: string,
  ) {}

  // When this process last became the leader (epoch ms); 0 while it is not.
  get leadingSince(): number {
    return this.session ? this.since : 0;
  }

  // True while this process leads: keeps the lock it has, or takes it if nobody holds it.
  async hold(): Promise<boolean> {
    if (this.session) {
      if (Date.now() - this.checkedAt < 1_000) return true;
      try {
        await this.session.query('select 1');
        this.checkedAt = Date.now();
        return true;
      } catch {
        await this.release();
      }
    }
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let row: { locked: boolean } | undefined;
    try {
      [row] = (await runner.query('select pg_try_advisory_lock($1, coalesce(hashtext($2), 0)) as locked', [
        this.lockClass,
        this.name,
      ])) as { locked: boolean }[];
    } catch (e) {
      await runner.release().catch(() => undefined);
      throw e;
    }
    if (!row?.locked) {
      await runner.release();
      return false;
    }
    this.session = runner;
    this.checkedAt = Date.now();
    this.since = Date.now();
    this.logger.log(`leading: ${this.duty}`);
    return true;
  }

  // Gives leadership up. The connection goes back to its pool alive, so the lock is let go
  // explicitly (a dead session has lost it already).
  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    await session
      .query('select pg_advisory_unlock($1, coalesce(hashtext($2), 0))', [this.lockClass, this.name])
      .catch(() => undefined);
    await session.release().catch(() => undefined);
  }
}
