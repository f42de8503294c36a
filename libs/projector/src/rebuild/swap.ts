import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { StreamRowTable } from '@spindle/backbone';
import type { EventSource } from './event-sources';

// The last step of a rebuild, in one transaction that holds the live table: its readers and
// writers wait from the lock to the commit, and so does the projector's checkpoint, which commits
// with its rows. The rebuild catches up, replays the streams the live table has further along
// (`streamsBehind`) and renames the new table into the live one's place inside `work`.

// A swap that could not take the live table in time (or deadlocked, which its lock order should
// rule out) rolls back, the projector goes on, and the rebuild catches up again and retries.
const SWAP_RETRYABLE = new Set(['55P03', '40P01']);

export function isRetryableSwapFailure(e: unknown): boolean {
  return SWAP_RETRYABLE.has((e as { code?: string }).code ?? '');
}

export async function underTableLock<T>(
  dataSource: DataSource,
  table: string, // qualified name
  lockTimeoutMs: number,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    await runner.query(`set local lock_timeout = ${Math.round(lockTimeoutMs)}`);
    // The strongest lock at once: a weaker one (readers still allowed) deadlocks with a projector
    // transaction that read the table before the lock and writes it after, when the drop of the
    // live table asks for this one.
    await runner.query(`lock table ${table} in access exclusive mode`);
    const result = await work(runner);
    await runner.commitTransaction();
    return result;
  } catch (e) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw e;
  } finally {
    await runner.release();
  }
}

export interface StreamsBehindQuery {
  readonly live: StreamRowTable<object>;
  readonly next: StreamRowTable<object>;
  readonly source: EventSource;
  readonly consumer: string; // the live projector, as its inbox names it
  readonly since: Date; // when the rebuild began, by the database's clock
}

// Under the lock: streams whose live row is further along than the rebuilt one (or missing from
// it) had an event commit behind the scan's cursor (global_position is assigned at insert, not
// at commit). Only an event the live projector applied after the rebuild began can be such a one
// (anything it applied earlier was committed before the first read), so only the streams of
// those events, found through the projector's inbox, are compared: the lock lasts as long as the
// recent activity takes to check, not as long as the table is large.
export async function streamsBehind(manager: EntityManager, query: StreamsBehindQuery): Promise<string[]> {
  const { live, next, source } = query;
  const id = live.streamIdColumn;
  const position = live.streamPositionColumn;
  const behind: { stream_id: string }[] = await manager.query(
    `with recent as (
       select distinct e.stream_id from "${live.schema}".consumer_inbox i
       join "${source.schema}".events e on e.event_id = i.event_id
       where i.consumer = $1 and i.applied_at >= $2
     )
     select o."${id}" as stream_id from ${live.qualifiedName} o
     join recent r on r.stream_id = o."${id}"
     left join ${next.qualifiedName} n on n."${id}" = o."${id}"
     where n."${id}" is null or n."${position}" < o."${position}"`,
    [query.consumer, query.since],
  );
  return behind.map((b) => b.stream_id);
}
