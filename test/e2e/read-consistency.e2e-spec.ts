import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandalone } from '@spindle/runtime';
import type { Standalone } from '@spindle/runtime';
import { createTestDatabase } from '@spindle/testing';
import { http } from '../support/http';
import { registerFunction, upload } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(120_000);

// A list read right after writes were acknowledged includes them: submits are answered once
// recorded, before the projector has them, so without the read barrier a list misses the newest.
describe.each(SPINDLE_MODES)('reads after acknowledged writes over %s', (_mode, env) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let spindle: Standalone;
  let url: string;
  let mist: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'spindle-consistency-'));
    spindle = await startStandalone(
      {
        DATABASE_URL: db.url,
        GATEWAY_PORT: '0',
        SPINDLE_HOST: '127.0.0.1',
        SPINDLE_DATA_DIR: dataDir,
        ...env,
      },
      false,
    );
    url = spindle.url;
    mist = spindle.mistUrl!;
    await upload(url, 'noop.js', 'exports.noop = () => 1;');
    await registerFunction(url, 'noop', 'noop.js', 'node', 'noop');
  });

  afterAll(async () => {
    await spindle?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists every job whose submit was acknowledged before the list, at once', async () => {
    for (let round = 0; round < 3; round++) {
      const externalId = randomUUID();
      const submitted = await Promise.all(
        Array.from({ length: 60 }, () =>
          http(url, 'POST', '/api/v1/functions/noop/jobs', { args: {}, externalId }),
        ),
      );
      expect(submitted.map((s) => s.status)).toEqual(submitted.map(() => 202));
      const listed = await http(url, 'GET', `/api/v1/jobs?externalId=${externalId}&limit=100`);
      expect(listed.headers.get('spindle-consistency')).toBe('consistent');
      expect(listed.body.items.map((j: { id: string }) => j.id).sort()).toEqual(
        submitted.map((s) => s.body.id).sort(),
      );
    }
  });

  it('lists every job Mist started before the list, on Mist’s own routes', async () => {
    const started = await Promise.all(
      Array.from({ length: 40 }, () => http(mist, 'POST', '/v2/api/functions/noop/jobs', {})),
    );
    const ids = started.map((s) => s.body.id as string);
    const listed = await http(mist, 'GET', '/v2/api/functions/noop/jobs?limit=1000');
    const seen = new Set(listed.body.map((j: { jobId: string }) => j.jobId));
    expect(ids.filter((id) => !seen.has(id))).toEqual([]);
  });

  it('skips the wait when asked, says so, and refuses an unknown level naming the field', async () => {
    const byHeader = await http(url, 'GET', '/api/v1/jobs?limit=1', undefined, {
      'spindle-consistency': 'eventual',
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get('spindle-consistency')).toBe('eventual');
    const byQuery = await http(url, 'GET', '/api/v1/functions?consistency=eventual');
    expect(byQuery.status).toBe(200);
    expect(byQuery.headers.get('spindle-consistency')).toBe('eventual');
    expect(byQuery.body.items.map((f: { name: string }) => f.name)).toEqual(['noop']);
    const bad = await http(url, 'GET', '/api/v1/contexts?consistency=strongest');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'consistency', rule: 'isIn' })]);
    const badHeader = await http(url, 'GET', '/api/v1/contexts', undefined, { 'spindle-consistency': 'x' });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.errors).toEqual([expect.objectContaining({ field: 'Spindle-Consistency' })]);
  });
});
