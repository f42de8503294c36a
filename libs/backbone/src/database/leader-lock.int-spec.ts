import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TEST_DATABASE_URL, uniqueName } from '@spindle/testing';
import { LeaderLock } from './leader-lock';

jest.setTimeout(30_000);

// A lock class no system lock uses, and a name of this run: nothing else on the server competes.
const CLASS = 990;
const logger = new Logger('leader-lock-test');
logger.log = () => undefined;
logger.warn = () => undefined;

// Leader locks on a real Postgres: one leader per lock among DataSources (processes), leadership
// that costs no connection of the pool, a lost session that loses its locks, and a release that
// hands the lead over.
describe('LeaderLock', () => {
  const sources: DataSource[] = [];
  const locks: LeaderLock[] = [];
  // A DataSource as a service has one, with a pool of `max` connections.
  const dataSource = async (max: number): Promise<DataSource> => {
    const ds = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL, extra: { max } });
    await ds.initialize();
    sources.push(ds);
    return ds;
  };
  const lock = (ds: DataSource, name: string): LeaderLock => {
    const l = new LeaderLock(ds, CLASS, name, logger, name);
    locks.push(l);
    return l;
  };
  const holderPid = async (ds: DataSource, name: string): Promise<number | undefined> => {
    const [row] = await ds.query<{ pid: number }[]>(
      `select pid from pg_locks
       where locktype = 'advisory' and classid = $1 and objid::int = hashtext($2) and granted`,
      [CLASS, name],
    );
    return row?.pid;
  };

  afterEach(async () => {
    await Promise.all(locks.splice(0).map((l) => l.release()));
    await Promise.all(sources.splice(0).map((ds) => ds.destroy()));
  });

  it('leads several duties without holding a connection of the pool', async () => {
    // The stall this prevents: four leaders of one service each held a pooled connection, and a
    // pool of 4 (standalone) had none left for the service's own queries.
    const ds = await dataSource(1);
    const names = Array.from({ length: 4 }, () => uniqueName('duty'));
    for (const name of names) expect(await lock(ds, name).hold()).toBe(true);
    const answer = await Promise.race([
      ds.query<{ one: number }[]>('select 1 as one'),
      new Promise<'pool exhausted'>((r) => setTimeout(() => r('pool exhausted'), 5_000)),
    ]);
    expect(answer).toEqual([{ one: 1 }]);
    // All four on one session of their own.
    const pids = await Promise.all(names.map((name) => holderPid(ds, name)));
    expect(new Set(pids).size).toBe(1);
    expect(pids[0]).toEqual(expect.any(Number));
  });

  it('runs a pass holding a second lock, after a transaction that holds it commits', async () => {
    // The dispatcher's pass and a submit placing its own jobs (ADVISORY_LOCK_CLASS.placement).
    const PASS_CLASS = 991;
    const ds = await dataSource(2);
    const leader = lock(ds, uniqueName('duty'));
    expect(await leader.hold()).toBe(true);
    const tryInTransaction = (): Promise<boolean> =>
      ds.transaction(async (manager) => {
        const [row] = await manager.query('select pg_try_advisory_xact_lock($1, 0) as got', [PASS_CLASS]);
        return row.got as boolean;
      });
    // During the pass, a transaction does not get the lock.
    expect(await leader.whileLocked(PASS_CLASS, tryInTransaction)).toBe(false);
    // A transaction holding it: the pass waits until it commits.
    const order: string[] = [];
    let pass: Promise<void> | undefined;
    await ds.transaction(async (manager) => {
      await manager.query('select pg_advisory_xact_lock($1, 0)', [PASS_CLASS]);
      pass = leader.whileLocked(PASS_CLASS, async () => void order.push('pass'));
      await new Promise((r) => setTimeout(r, 300));
      order.push('commit');
    });
    await pass;
    expect(order).toEqual(['commit', 'pass']);
    // After the pass, the lock is free.
    expect(await tryInTransaction()).toBe(true);
  });

  it('lets one of two processes lead a lock, and hands it over on release', async () => {
    const name = uniqueName('lead');
    const [a, b] = [lock(await dataSource(2), name), lock(await dataSource(2), name)];
    expect(await a.hold()).toBe(true);
    expect(a.leadingSince).toBeGreaterThan(0);
    expect(await b.hold()).toBe(false);
    expect(b.leadingSince).toBe(0);
    expect(await a.hold()).toBe(true);
    await a.release();
    expect(a.leadingSince).toBe(0);
    expect(await b.hold()).toBe(true);
    expect(await a.hold()).toBe(false);
  });

  it('never lets two locks of the same key in one DataSource both lead', async () => {
    const ds = await dataSource(2);
    const name = uniqueName('twice');
    const [a, b] = [lock(ds, name), lock(ds, name)];
    expect(await a.hold()).toBe(true);
    expect(await b.hold()).toBe(false);
    await a.release();
    expect(await b.hold()).toBe(true);
  });

  it('loses the lead with its session, and another process takes it', async () => {
    const name = uniqueName('lost');
    const first = await dataSource(2);
    const [a, b] = [lock(first, name), lock(await dataSource(2), name)];
    expect(await a.hold()).toBe(true);
    expect(await b.hold()).toBe(false);
    const pid = await holderPid(first, name);
    await first.query('select pg_terminate_backend($1)', [pid]);
    await waitFor(async () => await b.hold());
    // The old leader finds out (at once from the connection's end, at the latest within a second).
    await waitFor(async () => !(await a.hold()));
    expect(await holderPid(first, name)).not.toBe(pid);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
