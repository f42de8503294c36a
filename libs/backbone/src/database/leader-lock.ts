import type { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

// How often a leader checks at most that its session is still alive.
const CHECK_MS = 1_000;

// The one connection, outside the DataSource's pool, on which a DataSource's leader locks are held.
// A lock held on a pooled connection keeps that connection for as long as it leads: with a pool of
// 4 (standalone) and a scheduler leading its outbox relay, dispatcher, service jobs and MapReduce
// jobs, nothing was left for its queries and its outbox stalled. Every lock of one DataSource shares
// this session, so leading costs one connection per DataSource however many duties it leads. One
// DataSource per service and application, so two applications in one process (tests) still compete
// for a lock like two processes. A lost session loses every lock on it at once (its generation).
class LeaderSession {
  private static readonly byDataSource = new WeakMap<DataSource, LeaderSession>();
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private checkedAt = 0;
  // Bumped when the connection is lost or closed: a lock taken in an older generation is gone.
  generation = 0;
  // The locks that want this session (leading or standing by); it closes when none do.
  private readonly users = new Set<LeaderLock>();
  // The locks held, by key, so a second lock of the same key in this DataSource never shares them.
  private readonly held = new Map<string, LeaderLock>();
  // One query at a time on the connection (its locks' duties run concurrently).
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly url: string) {}

  static of(dataSource: DataSource): LeaderSession {
    let session = LeaderSession.byDataSource.get(dataSource);
    if (!session) {
      const url = (dataSource.options as { url?: string }).url;
      if (!url) throw new Error('LeaderLock: the DataSource has no url');
      session = new LeaderSession(url);
      LeaderSession.byDataSource.set(dataSource, session);
    }
    return session;
  }

  // Takes the lock (class, name) for `lock` if nobody holds it; the generation it was taken in, or
  // null when someone else leads.
  async tryLock(
    lock: LeaderLock,
    key: string,
    lockClass: number,
    name: string | null,
  ): Promise<number | null> {
    this.users.add(lock);
    const holder = this.held.get(key);
    if (holder && holder !== lock) return null;
    const client = await this.connect();
    const generation = this.generation;
    const [row] = await this.query<{ locked: boolean }>(
      client,
      'select pg_try_advisory_lock($1, coalesce(hashtext($2), 0)) as locked',
      [lockClass, name],
    );
    if (!row?.locked || generation !== this.generation) return null;
    this.held.set(key, lock);
    return generation;
  }

  // Runs `fn` holding the session lock (class, 0), waiting for it if a transaction holds it.
  async whileLocked<T>(lockClass: number, fn: () => Promise<T>): Promise<T> {
    const client = await this.connect();
    await this.query(client, 'select pg_advisory_lock($1, 0)', [lockClass]);
    try {
      return await fn();
    } finally {
      // A lost session has let the lock go with it.
      if (this.client === client)
        await this.query(client, 'select pg_advisory_unlock($1, 0)', [lockClass]).catch(() => undefined);
    }
  }

  // Whether a lock taken in `generation` is still held: the session is the same and answers (asked
  // at most once a second for all the locks on it).
  async alive(generation: number): Promise<boolean> {
    if (generation !== this.generation || !this.client) return false;
    if (Date.now() - this.checkedAt < CHECK_MS) return true;
    try {
      await this.query(this.client, 'select 1');
      this.checkedAt = Date.now();
    } catch {
      await this.lose(this.client);
    }
    return generation === this.generation;
  }

  // Lets the lock go (if still held in `generation`) and, once no lock wants the session, closes it.
  async unlock(
    lock: LeaderLock,
    key: string,
    lockClass: number,
    name: string | null,
    generation: number | null,
  ): Promise<void> {
    if (this.held.get(key) === lock) {
      this.held.delete(key);
      if (generation === this.generation && this.client)
        await this.query(this.client, 'select pg_advisory_unlock($1, coalesce(hashtext($2), 0))', [
          lockClass,
          name,
        ]).catch(() => undefined);
    }
    this.users.delete(lock);
    if (this.users.size === 0 && this.client) await this.lose(this.client);
  }

  private query<R extends object>(client: Client, sql: string, values: unknown[] = []): Promise<R[]> {
    const result = this.queue.then(async () => (await client.query<R>(sql, values)).rows);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new Client({ connectionString: this.url, application_name: 'spindle-leader' });
      // A lost connection takes its locks with it: every leader on it finds out at its next hold().
      client.on('error', () => void this.lose(client));
      client.on('end', () => void this.lose(client));
      try {
        await client.connect();
      } catch (e) {
        await client.end().catch(() => undefined);
        throw e;
      }
      this.client = client;
      this.checkedAt = Date.now();
      return client;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  // Forgets the connection (and with it every lock held on it) and closes it.
  private lose(client: Client): Promise<void> {
    if (this.client !== client) return Promise.resolve();
    this.client = undefined;
    this.generation++;
    this.held.clear();
    return client.end().catch(() => undefined);
  }
}

// Leadership among every process on one database: a session advisory lock (class, name), held on
// the DataSource's leader session (one connection of its own, outside the pool). A leader checks
// now and then (at most once a second) that its session is still alive, and tries again from
// scratch if not.
export class LeaderLock {
  private readonly session: LeaderSession;
  private readonly key: string;
  private generation: number | null = null;
  private since = 0;

  constructor(
    dataSource: DataSource,
    private readonly lockClass: number,
    // null: the class alone names the lock (one leader per database).
    private readonly name: string | null,
    private readonly logger: Logger,
    private readonly duty: string,
  ) {
    this.session = LeaderSession.of(dataSource);
    this.key = `${lockClass}:${name ?? ''}`;
  }

  // When this process last became the leader (epoch ms); 0 while it is not.
  get leadingSince(): number {
    return this.generation !== null ? this.since : 0;
  }

  // True while this process leads: keeps the lock it has, or takes it if nobody holds it.
  async hold(): Promise<boolean> {
    if (this.generation !== null) {
      if (await this.session.alive(this.generation)) return true;
      this.generation = null;
      this.logger.warn(`lost the lead (its database session ended): ${this.duty}`);
    }
    this.generation = await this.session.tryLock(this, this.key, this.lockClass, this.name);
    if (this.generation === null) return false;
    this.since = Date.now();
    this.logger.log(`leading: ${this.duty}`);
    return true;
  }

  // Runs `fn` (a leader's pass) holding the session lock (lockClass, 0) besides the lead: a
  // transaction that holds the same lock (pg_advisory_xact_lock) knows no such pass is under way,
  // nor starts before it commits.
  whileLocked<T>(lockClass: number, fn: () => Promise<T>): Promise<T> {
    return this.session.whileLocked(lockClass, fn);
  }

  // Gives leadership up (the session stays for the DataSource's other locks, closed with the last).
  async release(): Promise<void> {
    const generation = this.generation;
    this.generation = null;
    await this.session.unlock(this, this.key, this.lockClass, this.name, generation);
  }
}
