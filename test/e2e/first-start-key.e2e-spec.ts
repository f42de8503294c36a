import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { http } from '../support/http';
import { captureOutput, tablesHolding } from '../support/leaks';
import { spindleSuite } from '../support/spindle-suite';

const run = promisify(execFile);

// A first start without SPINDLE_ADMIN_KEY: Spindle creates one admin key, prints it once, keeps
// only its verifier; a restart prints nothing. The CLI makes narrower keys with it.
describe('the admin key of a first start, and `npm run spindle -- keys`', () => {
  const suite = spindleSuite({
    name: 'first-key',
    start: false,
    logger: true,
    env: { SPINDLE_ADMIN_KEY: '' },
  });
  let adminKey = '';

  it('prints an admin key once, which works, and is stored nowhere', async () => {
    const output = captureOutput();
    try {
      await suite.start();
    } finally {
      output.restore();
    }
    adminKey = /(spindle_[a-f0-9]{16}_[A-Za-z0-9_-]{43})/.exec(output.text())?.[1] ?? '';
    expect(adminKey).not.toBe('');
    const as = { authorization: `Bearer ${adminKey}` };
    expect((await http(suite.url, 'GET', '/api/v1/keys', undefined, as)).status).toBe(200);
    expect((await http(suite.url, 'GET', '/api/v1/keys', undefined, { authorization: '' })).status).toBe(401);
    // The secret is everything after `spindle_<16 hex>_`: base64url, so it may hold `_` itself.
    const secret = adminKey.slice('spindle_'.length + 17);
    expect(secret).toHaveLength(43);
    const { searched, hits } = await tablesHolding(suite.databaseUrl, secret);
    expect(searched).toEqual(expect.arrayContaining(['projector.api_keys_v1', 'scheduler.events']));
    expect(hits).toEqual([]);

    const again = captureOutput();
    try {
      await suite.restart();
    } finally {
      again.restore();
    }
    expect(again.text()).not.toMatch(/spindle_[a-f0-9]{16}_/);
  }, 120_000);

  it('creates a key with the scopes asked for from the command line', async () => {
    const env = { ...process.env, SPINDLE_URL: suite.url, SPINDLE_KEY: adminKey };
    const created = await run(
      'node',
      [
        '-r',
        '@swc-node/register',
        'tools/cli/spindle.ts',
        'keys',
        'create',
        '--scopes',
        'read',
        '--name',
        'cli-made',
      ],
      {
        cwd: join(__dirname, '..', '..'),
        env,
      },
    );
    const key = created.stdout.trim();
    expect(key).toMatch(/^spindle_[a-f0-9]{16}_/);
    const as = { authorization: `Bearer ${key}` };
    expect((await http(suite.url, 'GET', '/api/v1/jobs', undefined, as)).status).toBe(200);
    const refused = await http(suite.url, 'POST', '/api/v1/contexts', { name: 'nope' }, as);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('`write`');
  }, 60_000);
});
