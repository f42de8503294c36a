// Statements of the current database waiting for a lock of one kind (pg_stat_activity's wait_event:
// `advisory`, `relation`, `tuple`, ...): how a test knows a transaction is parked on a lock.
interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

export async function lockWaiters(db: Queryable, kind: string): Promise<number> {
  const [row] = await db.query<{ n: number }[]>(
    `select count(*)::int as n from pg_stat_activity
     where datname = current_database() and wait_event_type = 'Lock' and wait_event = $1`,
    [kind],
  );
  return row!.n;
}

// Until at least `n` statements wait for a lock of that kind; fails after 10 s.
export async function waitForLockWaiters(db: Queryable, kind: string, n = 1): Promise<void> {
  const until = Date.now() + 10_000;
  while ((await lockWaiters(db, kind)) < n) {
    if (Date.now() > until)
      throw new Error(`no ${n} statement(s) waited for a lock of kind ${kind} within 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
