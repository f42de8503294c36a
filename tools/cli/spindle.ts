import { parseArgs } from 'node:util';
import { API_SCOPES } from '@spindle/contracts';

// `npm run spindle -- keys create|list|revoke`: manages API keys through a running Spindle's
// native API, with an admin key (SPINDLE_KEY, else SPINDLE_ADMIN_KEY) at SPINDLE_URL.
const USAGE = `usage:
  npm run spindle -- keys create --scopes read,submit [--name ci] [--expires 2027-01-01T00:00:00Z]
  npm run spindle -- keys list
  npm run spindle -- keys revoke <id>
environment: SPINDLE_URL (default http://127.0.0.1:8080), SPINDLE_KEY or SPINDLE_ADMIN_KEY (an admin key)
scopes: ${API_SCOPES.join(', ')}`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { scopes: { type: 'string' }, name: { type: 'string' }, expires: { type: 'string' } },
  });
  const [group, action, id] = positionals;
  const base = (process.env['SPINDLE_URL'] ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const key = process.env['SPINDLE_KEY'] ?? process.env['SPINDLE_ADMIN_KEY'];
  if (group !== 'keys' || !action) return fail(USAGE);
  if (!key) return fail('set SPINDLE_KEY (or SPINDLE_ADMIN_KEY) to an admin key');
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  switch (action) {
    case 'create': {
      if (!values.scopes) return fail(`--scopes is required (${API_SCOPES.join(', ')})`);
      const created = await call('POST', '/api/v1/keys', {
        name: values.name ?? 'cli',
        scopes: values.scopes.split(',').map((s) => s.trim()),
        ...(values.expires ? { expiresAt: values.expires } : {}),
      });
      // The key on stdout alone (scripts capture it); what it is on stderr.
      process.stderr.write(`key ${String(created['id'])} (${String(created['name'])}): shown this once\n`);
      process.stdout.write(`${String(created['key'])}\n`);
      return 0;
    }
    case 'list':
      process.stdout.write(`${JSON.stringify(await call('GET', '/api/v1/keys?limit=500'), null, 2)}\n`);
      return 0;
    case 'revoke':
      if (!id) return fail('revoke needs the key id');
      await call('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
      process.stderr.write(`key ${id} revoked\n`);
      return 0;
    default:
      return fail(USAGE);
  }
}

function fail(message: string): number {
  process.stderr.write(`spindle: ${message}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`spindle: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
