import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { http } from '../support/http';
import { registerFunction, upload } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { contextStreamId } from '@spindle/contracts';
import { ContextsQuery, ReadBarrier } from '@spindle/read-models';

jest.setTimeout(120_000);

// A list read right after writes were acknowledged includes them: submits are answered once
// recorded, before the projector has them, so without the read barrier a list misses the newest.
describe.each(SPINDLE_MODES)('reads after acknowledged writes over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'consistency', env });

  beforeAll(async () => {
    await upload(suite.url, 'noop.js', 'exports.noop = () => 1;');
    await registerFunction(suite.url, 'noop', 'noop.js', 'node', 'noop');
  });

  it('lists every job whose submit was acknowledged before the list, at once', async () => {
    for (let round = 0; round < 3; round++) {
      const externalId = randomUUID();
      const submitted = await Promise.all(
        Array.from({ length: 60 }, () =>
          http(suite.url, 'POST', '/api/v1/functions/noop/jobs', { args: {}, externalId }),
        ),
      );
      expect(submitted.map((s) => s.status)).toEqual(submitted.map(() => 202));
      const listed = await http(suite.url, 'GET', `/api/v1/jobs?externalId=${externalId}&limit=100`);
      expect(listed.headers.get('spindle-consistency')).toBe('consistent');
      expect(listed.body.items.map((j: { id: string }) => j.id).sort()).toEqual(
        submitted.map((s) => s.body.id).sort(),
      );
    }
  });

  it('lists every job Mist started before the list, on Mist’s own routes', async () => {
    const started = await Promise.all(
      Array.from({ length: 40 }, () => http(suite.mistUrl, 'POST', '/v2/api/functions/noop/jobs', {})),
    );
    const ids = started.map((s) => s.body.id as string);
    const listed = await http(suite.mistUrl, 'GET', '/v2/api/functions/noop/jobs?limit=500');
    const seen = new Set(listed.body.map((j: { jobId: string }) => j.jobId));
    expect(ids.filter((id) => !seen.has(id))).toEqual([]);
  });

  // Each consistent read used to look on its own: the outbox heads and published offsets, then the
  // projector's checkpoints, two statements before its own query. Reads that arrive while a look is
  // under way share the next one.
  it('reads that arrive together share the barrier’s look', async () => {
    const statements = async () => {
      const res = await http(suite.url, 'GET', '/metrics');
      return Number(/^spindle_db_statements_total\{connection="read-models"\} (\d+)/m.exec(res.text)![1]);
    };
    const burst = async (level: 'eventual' | 'consistent') => {
      const before = await statements();
      const answers = await Promise.all(
        Array.from({ length: 32 }, () => http(suite.url, 'GET', `/api/v1/functions?consistency=${level}`)),
      );
      expect(answers.map((a) => [a.status, a.headers.get('spindle-consistency')])).toEqual(
        answers.map(() => [200, level]),
      );
      expect(answers.every((a) => a.body.items.some((f: { name: string }) => f.name === 'noop'))).toBe(true);
      return (await statements()) - before;
    };
    const eventual = await burst('eventual');
    const consistent = await burst('consistent');
    // 64 more with a look and a check of their own each; a shared look is one statement.
    expect(consistent - eventual).toBeLessThanOrEqual(8);
  });

  // Every command's answer waits until the read model has its write (read your writes), and each
  // waiting read looked on its own at every projector commit. Looks that arrive together share one
  // statement, each answered for its own stream.
  it('read-your-writes waits that arrive together share their looks', async () => {
    const names = ['ryw-a', 'ryw-b', 'ryw-c'];
    for (const name of names)
      expect((await http(suite.url, 'POST', '/api/v1/contexts', { name })).status).toBe(201);
    const statements = async () => {
      const res = await http(suite.url, 'GET', '/metrics');
      return Number(/^spindle_db_statements_total\{connection="read-models"\} (\d+)/m.exec(res.text)![1]);
    };
    const contexts = suite.spindle.app.get(ContextsQuery);
    // Each context's stream is at position 1 (created); position 2 is not reached, and with no
    // time to wait for it the answer is false at once; a stream without a row is at 0.
    const asks = Array.from({ length: 32 }, (_, i) => ({
      streamId: contextStreamId(i % 4 === 3 ? `never-${i}` : names[i % 4]!),
      position: i % 8 === 1 ? 2 : 1,
    }));
    const before = await statements();
    const reached = await Promise.all(asks.map((a) => contexts.waitForPosition(a.streamId, a.position, 0)));
    // The first look alone, the rest in one more, with room for a background read; alone, 32.
    expect((await statements()) - before).toBeLessThanOrEqual(4);
    expect(reached).toEqual(asks.map((a) => !a.streamId.includes('never') && a.position === 1));
  });

  // Consistent reads that find acknowledged writes not yet published wait for the relay, and each
  // looked again on its own at every publish (and every fallback tick), then read where the rows
  // went: now the reads waiting at once share each check, and it says where the rows went too.
  it('reads waiting for the relay share their checks', async () => {
    const statements = async () => {
      const res = await http(suite.url, 'GET', '/metrics');
      return Number(/^spindle_db_statements_total\{connection="read-models"\} (\d+)/m.exec(res.text)![1]);
    };
    const externalId = randomUUID();
    // A transaction left open (a connection that names no schema may write any) holds the relay
    // back: it publishes no row committed after it began until it ends.
    const holder = new Client({ connectionString: suite.databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_current_xact_id()');
      const job = await http(suite.url, 'POST', '/api/v1/functions/noop/jobs', { args: {}, externalId });
      expect(job.status).toBe(202);
      const barrier = suite.spindle.app.get(ReadBarrier);
      const before = await statements();
      // 32 reads at once, all held by the relay for a while (its fallback tick and other relays'
      // publishes wake them meanwhile), then let go.
      const reads = Promise.all(Array.from({ length: 32 }, () => barrier.await(['jobs'])));
      await new Promise((r) => setTimeout(r, 600));
      await holder.query('commit');
      expect(await reads).toEqual(Array.from({ length: 32 }, () => true));
      // The first look alone, the rest together, then a shared check at each wake (14-20 here);
      // each read alone was a check at once, one more at every wake, and (on Kafka) a read of where
      // its rows went (162-197).
      expect((await statements()) - before).toBeLessThanOrEqual(32);
      const listed = await http(suite.url, 'GET', `/api/v1/jobs?externalId=${externalId}`);
      expect(listed.body.items.map((j: { id: string }) => j.id)).toEqual([job.body.id]);
    } finally {
      await holder.end();
    }
  });

  it('skips the wait when asked, says so, and refuses an unknown level naming the field', async () => {
    const byHeader = await http(suite.url, 'GET', '/api/v1/jobs?limit=1', undefined, {
      'spindle-consistency': 'eventual',
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get('spindle-consistency')).toBe('eventual');
    const byQuery = await http(suite.url, 'GET', '/api/v1/functions?consistency=eventual');
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get('spindle-consistency')).toBe('eventual');
    expect(byQuery.body.items.map((f: { name: string }) => f.name)).toEqual(['noop']);
    const bad = await http(suite.url, 'GET', '/api/v1/contexts?consistency=strongest');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'consistency', rule: 'isIn' })]);
    const badHeader = await http(suite.url, 'GET', '/api/v1/contexts', undefined, {
      'spindle-consistency': 'x',
    });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.errors).toEqual([expect.objectContaining({ field: 'Spindle-Consistency' })]);
  });
});
