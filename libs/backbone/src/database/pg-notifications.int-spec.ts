import { Client } from 'pg';
import { TEST_DATABASE_URL } from '@spindle/testing';
import { NOTIFY_CHANNELS, PgNotifications } from './pg-notifications';

jest.setTimeout(30_000);

// The process's one LISTEN connection on a real Postgres: waiters of several channels that start
// at once are all listening when their `on` resolves, and their LISTENs go one at a time (a pg
// client handed a query while it runs one queues it, with a warning that pg 9 will refuse it).
describe('PgNotifications', () => {
  afterAll(() => PgNotifications.closeAll());

  it('listens on several channels asked for at once, one LISTEN at a time, each notified', async () => {
    // Observes (does not replace) every query: how many run at once on one connection.
    const running = new Map<Client, number>();
    let most = 0;
    // The original, called with each connection as `this` below.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
      this: Client,
      ...args: unknown[]
    ) {
      running.set(this, (running.get(this) ?? 0) + 1);
      most = Math.max(most, running.get(this)!);
      const result = (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      void Promise.resolve(result)
        .catch(() => undefined)
        .finally(() => running.set(this, running.get(this)! - 1));
      return result as never;
    });
    const notifications = PgNotifications.forDatabase(TEST_DATABASE_URL);
    const heard: string[] = [];
    const channels = [NOTIFY_CHANNELS.hosts, NOTIFY_CHANNELS.published, NOTIFY_CHANNELS.consumed];
    try {
      await notifications.on(NOTIFY_CHANNELS.outbox, () => undefined);
      await Promise.all(
        channels.map((c) => notifications.on(c, (payload) => void heard.push(`${c} ${payload}`))),
      );
    } finally {
      spy.mockRestore();
    }
    expect(most).toBe(1);
    const sender = new Client({ connectionString: TEST_DATABASE_URL });
    await sender.connect();
    for (const c of channels) await sender.query(`select pg_notify($1, 'x')`, [c]);
    await sender.end();
    const deadline = Date.now() + 5_000;
    while (heard.length < channels.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(heard.sort()).toEqual(channels.map((c) => `${c} x`).sort());
  });
});
