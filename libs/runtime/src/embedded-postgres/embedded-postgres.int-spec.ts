import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { eventually, freePorts, processAlive } from '@spindle/testing';
import { startEmbeddedPostgres } from './embedded-postgres';
import type { EmbeddedDatabase } from './embedded-postgres';

jest.setTimeout(180_000);

// `npm start`'s own PostgreSQL (no DATABASE_URL): a server that ends unasked is started again, and
// what was committed before is there after.
describe('the embedded PostgreSQL', () => {
  let dataDir: string;
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'spindle-embedded-pg-'));
    const [port] = await freePorts(1);
    db = await startEmbeddedPostgres(dataDir, port!, 'restarts');
  });

  afterAll(async () => {
    await db?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const query = async (sql: string): Promise<unknown[]> => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  it('is started again when it is killed, with what was committed, and pools reconnect', async () => {
    await query('create table kept (n int)');
    await query('insert into kept values (1)');
    const pool = new Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined); // its idle connections die with the server
    try {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      const killed = db.pid!;
      process.kill(killed, 'SIGKILL');
      await eventually(async () => (processAlive(killed) ? undefined : true), 10_000, 'the server to die');
      const rows = await eventually(
        () =>
          pool.query<{ n: number }>('select n from kept').then(
            (r) => r.rows,
            () => undefined,
          ),
        60_000,
        'a query through the pool after the restart',
      );
      expect(rows).toEqual([{ n: 1 }]);
      expect(db.pid).not.toBe(killed);
      expect(processAlive(db.pid!)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('stops for good when asked', async () => {
    const pid = db.pid!;
    await db.stop();
    expect(processAlive(pid)).toBe(false);
    await expect(query('select 1')).rejects.toThrow();
  });
});
