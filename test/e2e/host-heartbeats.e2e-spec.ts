import { Client } from 'pg';
import { PROGRAMS } from '../fixtures/programs';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

jest.setTimeout(90_000);

// A worker host's agent beats every second while it has work and every 5 s while it has none,
// each heartbeat saying when the next is due; the scheduler allows each host that much silence
// past its limit (HOST_SILENCE_LIMIT_MS, 5 s: a second's beat) before it takes it for gone. Read
// where every reader of the hosts reads it: the scheduler's hosts table. The bus makes no
// difference to the agent's beat: the in-process one only.
describe('a worker host heartbeats', () => {
  const [, env] = SPINDLE_MODES[0]!;
  const suite = spindleSuite({ name: 'heartbeats', env });

  beforeAll(async () => {
    for (const [name, content] of Object.entries(PROGRAMS)) await upload(suite.url, name, content);
    await registerFunction(suite.url, 'sleep', 'tools.js', 'node', 'sleep');
  });

  // The silence the scheduler allows the standalone's host, in ms (heard_until - last_seen).
  async function allowance(): Promise<number | undefined> {
    const db = new Client({ connectionString: suite.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ ms: number }>(
        `select (extract(epoch from heard_until - last_seen) * 1000)::float8 as ms
         from scheduler.hosts where not stopping`,
      );
      return rows.length === 1 ? rows[0]!.ms : undefined;
    } finally {
      await db.end();
    }
  }

  it('beats less often with no work, every second with some, and is allowed silence by its beat', async () => {
    await waitUntil(async () => (await allowance()) === 9_000, 30_000); // 5 s + (5 s - 1 s)
    const job = await submit(suite.url, 'sleep', { args: { ms: 8_000 } });
    await waitForState(suite.url, job.id, ['running']);
    // Its next beat, within the 5 s the last one announced, says it beats every second now.
    await waitUntil(async () => (await allowance()) === 5_000, 15_000);
    expect((await waitForState(suite.url, job.id)).state).toBe('succeeded');
    // The job's exclusive worker stops with it: no work again.
    await waitUntil(async () => (await allowance()) === 9_000, 30_000);
  });
});
