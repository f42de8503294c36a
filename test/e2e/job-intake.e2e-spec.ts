import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { registerFunction, upload } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(60_000);

// The scheduler decides and records the submits that arrive together in one transaction. Under a
// burst every submit must still get its own answer: its own job, the first answer again for a
// reused Idempotency-Key, a refusal for a key reused with another request, and nothing lost.
describe.each(SPINDLE_MODES)('job intake under a burst, over %s', (_mode, env) => {
  // No worker host runs jobs here: they stay queued, and only the intake is exercised.
  const suite = spindleSuite({ name: 'intake', env: { WORKER_SLOTS: '0', ...env } });

  beforeAll(async () => {
    await upload(suite.url, 'sum.js', PROGRAMS['sum.js']);
    await registerFunction(suite.url, 'burst', 'sum.js', 'node', 'sum');
  });

  it('gives each of 200 concurrent submits its own answer, in batches', async () => {
    const submit = (args: object, key?: string) =>
      http(
        suite.url,
        'POST',
        '/api/v1/functions/burst/jobs',
        { args },
        key ? { 'idempotency-key': key } : {},
      );
    const plain = Array.from({ length: 150 }, (_, i) => submit({ a: i, b: 1 }));
    const twins = Array.from({ length: 40 }, () => submit({ a: 7, b: 7 }, 'burst-twins'));
    const clashes = Array.from({ length: 10 }, (_, i) => submit({ a: 100 + i, b: 0 }, 'burst-clash'));
    const [plainAnswers, twinAnswers, clashAnswers] = await Promise.all([
      Promise.all(plain),
      Promise.all(twins),
      Promise.all(clashes),
    ]);

    expect(plainAnswers.map((r) => r.status)).toEqual(plainAnswers.map(() => 202));
    const ids = plainAnswers.map((r) => r.body.id as string);
    expect(new Set(ids).size).toBe(150);
    // Each answer is the job it asked for, as recorded.
    plainAnswers.forEach((r, i) => expect(r.body).toMatchObject({ state: 'queued', args: { a: i, b: 1 } }));

    expect(twinAnswers.map((r) => r.status)).toEqual(twinAnswers.map(() => 202));
    expect(new Set(twinAnswers.map((r) => r.body.id)).size).toBe(1);

    // One request with the key wins; the others asked for something else under the same key.
    const accepted = clashAnswers.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(1);
    for (const refused of clashAnswers.filter((r) => r.status !== 202)) {
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatchObject({ field: 'Idempotency-Key' });
    }

    // Every acknowledged job is there, readable by id, and no other job was made.
    for (const id of [...ids, twinAnswers[0]!.body.id, accepted[0]!.body.id]) {
      expect((await http(suite.url, 'GET', `/api/v1/jobs/${id}`)).status).toBe(200);
    }
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await http(
        suite.url,
        'GET',
        `/api/v1/jobs?function=burst&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      listed.push(...page.body.items.map((j) => j.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(listed.sort()).toEqual([...ids, twinAnswers[0]!.body.id, accepted[0]!.body.id].sort());
  });
});
