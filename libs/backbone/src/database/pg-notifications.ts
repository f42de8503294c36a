import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

// Channels Spindle notifies on. Postgres delivers a notification when the transaction that sent it
// commits (and drops it if that rolls back), to every session that LISTENs, in any process.
export const NOTIFY_CHANNELS = {
  // A consumer committed effects and its checkpoint (payload: the consumer's name).
  consumed: 'spindle_consumed',
  // An outbox relay published and deleted rows (payload: the owner's schema).
  published: 'spindle_published',
  // Rows were added to an outbox (payload: outboxNotice, the owner's schema and who appended).
  outbox: 'spindle_outbox',
  // A worker host joined, came back after a gap, restarted, or changed its slots or stopping
  // (payload: the hosts table, as recordHeartbeats names it).
  hosts: 'spindle_hosts',
  // The service jobs view changed (payload: its new change index, Genvid's waitIndex).
  serviceJobs: 'spindle_service_jobs_changed',
} as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[keyof typeof NOTIFY_CHANNELS];

type Handler = (payload: string) => void;

// An outbox notification's payload: `<schema> <appender>`, where the appender names the event store
// (one per service and application) whose transaction added the rows, so a listener can tell a
// commit it already heard of in-process from another process's. '' (a reconnect): anything.
export function outboxNotice(schema: string, appender: string): string {
  return `${schema} ${appender}`;
}

export function parseOutboxNotice(payload: string): { readonly schema: string; readonly appender: string } {
  const [schema = '', appender = ''] = payload.split(' ');
  return { schema, appender };
}

const RECONNECT_MS = 1_000;

// One LISTEN connection per process and database, shared by everything in the process that waits
// for a change another transaction makes: read-your-writes, consistent reads, the outbox relays.
// While it is (re)connecting, notifications can be missed, so every handler is called once when
// the connection is back: a waiter then looks again instead of waiting for its timeout.
export class PgNotifications {
  private static readonly byDatabase = new Map<string, PgNotifications>();
  private readonly logger = new Logger('pg-notifications');
  private readonly handlers = new Map<string, Set<Handler>>();
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private listening: Promise<unknown> = Promise.resolve();
  // Each channel's first LISTEN on the current connection (on()).
  private readonly listened = new Map<string, Promise<void | undefined>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly url: string) {}

  // The process's listener for the database a DataSource talks to.
  static of(dataSource: DataSource): PgNotifications {
    const url = (dataSource.options as { url?: string }).url;
    if (!url) throw new Error('PgNotifications: the DataSource has no url');
    return PgNotifications.forDatabase(url);
  }

  static forDatabase(url: string): PgNotifications {
    let listener = PgNotifications.byDatabase.get(url);
    if (!listener || listener.closed) {
      listener = new PgNotifications(url);
      PgNotifications.byDatabase.set(url, listener);
    }
    return listener;
  }

  // Closes every listener of the process (its application shut down).
  static async closeAll(): Promise<void> {
    const all = [...PgNotifications.byDatabase.values()];
    PgNotifications.byDatabase.clear();
    await Promise.all(all.map((l) => l.close()));
  }

  // Calls `handler` with each notification on `channel` from now on, until the returned function
  // is called. Resolves once the channel is listened to (a change committed after that is seen).
  async on(channel: NotifyChannel, handler: Handler): Promise<() => void> {
    let set = this.handlers.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    const off = () => void set.delete(handler);
    try {
      // A second waiter of a channel whose LISTEN is still queued waits for it too.
      if (first)
        this.listened.set(
          channel,
          this.connect().then(() => this.client && this.listen(this.client, channel)),
        );
      await this.listened.get(channel);
    } catch (e) {
      // Not listening yet: the reconnect calls every handler once it is, so waiters look again.
      this.logger.warn(`cannot listen on ${channel} yet: ${e instanceof Error ? e.message : String(e)}`);
      // The reconnect listens to every channel: later waiters need not fail on this attempt.
      this.listened.set(channel, Promise.resolve());
      this.scheduleReconnect();
    }
    return off;
  }

  private connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new Client({ connectionString: this.url, application_name: 'spindle-listen' });
      client.on('notification', (message) => {
        for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      client.on('error', (e) => {
        this.logger.warn(`listen connection lost: ${e.message}`);
        this.dropClient(client);
        this.scheduleReconnect();
      });
      client.on('end', () => {
        if (this.client === client && !this.closed) {
          this.dropClient(client);
          this.scheduleReconnect();
        }
      });
      await client.connect();
      if (this.closed) {
        await client.end();
        return;
      }
      for (const channel of this.handlers.keys()) await this.listen(client, channel);
      this.client = client;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  // One LISTEN at a time on the connection: waiters of several channels start at once, and a pg
  // client given a query while it runs one queues it with a deprecation warning (pg 8.16+).
  private listen(client: Client, channel: string): Promise<void> {
    const listened = this.listening.then(() => client.query(`listen ${channel}`));
    this.listening = listened.catch(() => undefined);
    return listened.then(() => undefined);
  }

  private dropClient(client: Client): void {
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().then(
        () => {
          // Whatever was notified while the connection was down is looked at again now.
          for (const set of this.handlers.values()) for (const handler of set) handler('');
        },
        () => this.scheduleReconnect(),
      );
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }

  private async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const set of this.handlers.values()) for (const handler of set) handler('');
    this.handlers.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

// Waits until `check` answers something other than null/undefined/false, looking again whenever
// one of `channels` is notified (and every `fallbackMs`, for a notification lost with its
// connection); null once `timeoutMs` passed. Looks once more after listening, so a change that
// committed between the caller's last look and the LISTEN is not missed.
export async function waitForChange<T>(
  notifications: PgNotifications,
  channels: readonly NotifyChannel[],
  check: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  fallbackMs = 250,
): Promise<T | null> {
  const first = await check();
  if (first !== null && first !== undefined && first !== false) return first;
  if (timeoutMs <= 0) return null;
  return new Promise<T | null>((resolve, reject) => {
    let settled = false;
    let looking = false;
    let again = false;
    const offs: (() => void)[] = [];
    const finish = (value: T | null, error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve(value);
    };
    const look = () => {
      if (settled) return;
      if (looking) {
        again = true; // a notification during a look: look once more after it
        return;
      }
      looking = true;
      check().then(
        (value) => {
          looking = false;
          if (value !== null && value !== undefined && value !== false) finish(value);
          else if (again) {
            again = false;
            look();
          }
        },
        (e: unknown) => finish(null, e instanceof Error ? e : new Error(`waiting for a change: ${typeof e}`)),
      );
    };
    const deadline = setTimeout(() => finish(null), timeoutMs);
    offs.push(onFallback(fallbackMs, look));
    void Promise.all(channels.map((c) => notifications.on(c, look))).then((list) => {
      offs.push(...list);
      if (settled) for (const off of list) off();
      else look();
    });
  });
}

// The fallback looks of every waiter of one period go together, on one timer: looks that share a
// statement (a GroupCommit: the read barrier's, a job's or a stream position's) then share it on
// the fallback too, where a timer per waiter fired each alone. Returns the function that stops it.
const fallbackClocks = new Map<number, { readonly timer: NodeJS.Timeout; readonly looks: Set<() => void> }>();

function onFallback(periodMs: number, look: () => void): () => void {
  let clock = fallbackClocks.get(periodMs);
  if (!clock) {
    const looks = new Set<() => void>();
    const timer = setInterval(() => {
      for (const each of looks) each();
    }, periodMs);
    timer.unref();
    fallbackClocks.set(periodMs, (clock = { timer, looks }));
  }
  const { looks, timer } = clock;
  looks.add(look);
  return () => {
    looks.delete(look);
    if (looks.size === 0 && fallbackClocks.get(periodMs)?.timer === timer) {
      clearInterval(timer);
      fallbackClocks.delete(periodMs);
    }
  };
}
