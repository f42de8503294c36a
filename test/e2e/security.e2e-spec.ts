import { MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { API_SCOPES, DataTopics } from '@spindle/contracts';
import type { ApiScope, AuditRecord } from '@spindle/contracts';
import { INTERNAL_TOKEN_HEADER, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { AUTH } from '../support/auth';
import { http } from '../support/http';
import { openApiRoutes, routeUrl } from '../support/openapi-routes';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

type Json = Record<string, any>;

interface Route {
  readonly surface: string;
  readonly method: string;
  readonly path: string; // as the document names it
  readonly scope: ApiScope | undefined;
}

// Authentication on every surface, generated from the OpenAPI documents so that a new route is
// covered (or fails here) without anyone remembering it: no key → 401, a key without the route's
// scope → 403, a key with it → neither. Dialect ports run with `keys` here (the other suites keep
// them `open`). Auth does not depend on the bus: one mode.
describe('security: keys and scopes on every surface, browser safety, internal routes', () => {
  const suite = spindleSuite({
    name: 'security',
    env: {
      MIST_PORT: '0',
      ILUM_PORT: '0',
      GENVID_PORT: '0',
      SPINDLE_DIALECT_AUTH: 'keys',
      SPINDLE_HTTP_HEADERS_TIMEOUT_MS: '1000',
    },
  });
  const keyOf = new Map<ApiScope, string>();
  const routes: Route[] = [];

  beforeAll(async () => {
    for (const route of await openApiRoutes(suite))
      routes.push({
        surface: route.surface,
        method: route.method,
        path: route.path,
        scope: route.operation['x-spindle-scope'],
      });
    for (const scope of API_SCOPES) {
      const created = await http(suite.url, 'POST', '/api/v1/keys', {
        name: `only-${scope}`,
        scopes: [scope],
      });
      expect(created.status).toBe(201);
      keyOf.set(scope, created.body.key);
    }
  });

  // The route on the surface's own listener, path parameters filled with names that exist nowhere.
  // Streams (SSE, follow) are judged by their status and not read.
  const call = async (route: Route, key: string | undefined) => {
    const path = route.path.replace(/\{[^}]+\}/g, 'zz-missing-0');
    const response = await fetch(routeUrl(suite, route, path), {
      method: route.method,
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(20_000),
    });
    const streaming = response.headers.get('content-type')?.includes('event-stream') ?? false;
    const text = streaming ? (await response.body?.cancel(), '') : await response.text();
    return { status: response.status, headers: response.headers, text, body: parsed(text) };
  };
  const scopeRefusal = (answer: { status: number; text: string }) =>
    answer.status === 401 || (answer.status === 403 && answer.text.includes('scope'));

  it('finds every surface in the documents, and every route but health declares a scope', () => {
    expect(new Set(routes.map((r) => r.surface))).toEqual(
      new Set(['api', ...Object.keys(suite.spindle.dialectUrls)]),
    );
    expect(routes.length).toBeGreaterThan(40);
    const undeclared = routes.filter((r) => r.scope === undefined && r.path !== '/health');
    expect(undeclared.map((r) => `${r.surface} ${r.method} ${r.path}`)).toEqual([]);
  });

  it('answers 401 without a key on every scoped route, with a challenge and the reason', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.scope)) {
      const answer = await call(route, undefined);
      if (answer.status !== 401 || !answer.headers.get('www-authenticate')?.includes('Bearer'))
        failures.push(`${route.surface} ${route.method} ${route.path}: ${answer.status}`);
    }
    expect(failures).toEqual([]);
    const native = await call(
      { surface: 'api', method: 'GET', path: '/api/v1/jobs', scope: 'read' },
      undefined,
    );
    expect(native.headers.get('content-type')).toContain('application/problem+json');
    expect(native.body.errors[0]).toMatchObject({ field: 'Authorization', rule: 'apiKey' });
  }, 180_000);

  it('answers 403 naming the missing scope to a key without it, and lets a key with it through', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.scope)) {
      const other = API_SCOPES.find((s) => s !== route.scope)!;
      const refused = await call(route, keyOf.get(other));
      if (refused.status !== 403 || !refused.text.includes(`\`${route.scope}\``))
        failures.push(`${route.surface} ${route.method} ${route.path} with ${other}: ${refused.status}`);
      const allowed = await call(route, keyOf.get(route.scope!));
      if (scopeRefusal(allowed) || allowed.status >= 500)
        failures.push(
          `${route.surface} ${route.method} ${route.path} with ${route.scope}: ${allowed.status}`,
        );
    }
    expect(failures).toEqual([]);
  }, 180_000);

  it('takes the key as basic auth password on a dialect port, and answers in the dialect shape', async () => {
    const mist = suite.spindle.dialectUrls['mist']!;
    const basic = `Basic ${Buffer.from(`anyone:${keyOf.get('read')}`).toString('base64')}`;
    expect((await http(mist, 'GET', '/v2/api/functions', undefined, { authorization: basic })).status).toBe(
      200,
    );
    const refused = await http(mist, 'GET', '/v2/api/functions', undefined, { authorization: '' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain('text/plain');
  });

  it('stops a revoked key at once, and lists keys without the keys themselves', async () => {
    const created = await http(suite.url, 'POST', '/api/v1/keys', { name: 'short-lived', scopes: ['read'] });
    const key = created.body.key as string;
    expect(key).toMatch(/^spindle_[a-f0-9]{16}_/);
    const as = { authorization: `Bearer ${key}` };
    expect((await http(suite.url, 'GET', '/api/v1/jobs', undefined, as)).status).toBe(200);
    expect((await http(suite.url, 'DELETE', `/api/v1/keys/${created.body.id}`)).status).toBe(204);
    const after = await http(suite.url, 'GET', '/api/v1/jobs', undefined, as);
    expect(after.status).toBe(401);
    expect(after.body.detail).toContain('revoked');
    const list = await http(suite.url, 'GET', '/api/v1/keys?limit=500');
    expect(list.text).not.toContain(secretPartOf(key));
    expect(list.text).not.toContain('verifier');
    expect(list.body.items.find((k: Json) => k.id === created.body.id).revokedAt).not.toBeNull();
  });

  it('refuses a key past its expiry, and a create whose expiry has passed', async () => {
    const past = await http(suite.url, 'POST', '/api/v1/keys', {
      name: 'late',
      scopes: ['read'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].field).toBe('expiresAt');
    const soon = new Date(Date.now() + 1_500).toISOString();
    const created = await http(suite.url, 'POST', '/api/v1/keys', {
      name: 'soon',
      scopes: ['read'],
      expiresAt: soon,
    });
    expect(created.status).toBe(201);
    const as = { authorization: `Bearer ${created.body.key}` };
    await waitUntil(async () => (await http(suite.url, 'GET', '/api/v1/jobs', undefined, as)).status === 401);
    expect((await http(suite.url, 'GET', '/api/v1/jobs', undefined, as)).body.detail).toContain('expired');
  });

  it('records who wrote what from where, without the key', async () => {
    const bus = suite.spindle.app.get<MessageBus>(MESSAGE_BUS);
    const records: AuditRecord[] = [];
    const subscription = await bus.subscribe(
      { groupId: 'security-audit', topics: [DataTopics.audit], fromBeginning: false },
      async (batch) => {
        for (const m of batch.messages) records.push(JSON.parse(m.value) as AuditRecord);
      },
    );
    try {
      const write = keyOf.get('write')!;
      await http(
        suite.url,
        'POST',
        '/api/v1/contexts',
        { name: 'audited' },
        { authorization: `Bearer ${write}`, 'x-correlation-id': 'audit-4716' },
      );
      await waitUntil(() => records.some((r) => r.path === '/api/v1/contexts'));
      const record = records.find((r) => r.path === '/api/v1/contexts')!;
      expect(record).toMatchObject({
        keyName: 'only-write',
        method: 'POST',
        status: 201,
        listener: 'api',
        correlationId: 'audit-4716', // the id the context's events carry
      });
      expect(record.address).toMatch(/127\.0\.0\.1/);
      expect(JSON.stringify(records)).not.toContain(secretPartOf(write));
    } finally {
      await subscription.stop();
    }
  });

  it('refuses a foreign Host (DNS rebinding) on the main and dialect ports', async () => {
    const rebinding = { host: 'attacker.example', ...AUTH };
    for (const [base, path] of [
      [suite.url, '/api/v1/jobs'],
      [suite.spindle.dialectUrls['mist']!, '/v2/api/functions'],
    ] as const) {
      const answer = await rawRequest(base, 'GET', path, rebinding);
      expect(answer.status).toBe(421);
    }
    expect((await rawRequest(suite.url, 'GET', '/api/v1/jobs', { host: 'localhost', ...AUTH })).status).toBe(
      200,
    );
  });

  it('refuses a cross-origin form post and changes nothing', async () => {
    const form = new FormData();
    form.append('file', new Blob(['print(1)']), 'csrf.py');
    const answer = await fetch(`${suite.url}/api/v1/artifacts`, {
      method: 'POST',
      body: form,
      headers: { ...AUTH, origin: 'https://attacker.example' },
    });
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('Origin');
    expect((await http(suite.url, 'GET', '/api/v1/artifacts/csrf.py')).status).toBe(404);
    const sameOrigin = await fetch(`${suite.url}/api/v1/artifacts`, {
      method: 'POST',
      body: form,
      headers: { ...AUTH, origin: suite.url },
    });
    expect(sameOrigin.status).toBe(201);
  });

  it('sends security headers on every listener: main, dialect, internal', async () => {
    const config = suite.spindle.app.get<SpindleConfig>(SPINDLE_CONFIG);
    const token = { [INTERNAL_TOKEN_HEADER]: config.internalToken! };
    for (const [base, path, headers] of [
      [suite.url, '/docs', {}],
      [suite.url, '/api/v1/jobs', {}],
      [suite.spindle.dialectUrls['mist']!, '/v2/api/functions', {}],
      [config.urls.artifactStore, `/internal/v1/blobs/${'0'.repeat(64)}`, token],
    ] as const) {
      const answer = await http(base, 'GET', path, undefined, headers);
      expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(answer.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('cuts off a client that sends its headers too slowly (slowloris), on the main and dialect ports', async () => {
    const { connect } = await import('node:net');
    for (const base of [suite.url, suite.spindle.dialectUrls['mist']!]) {
      const { port } = new URL(base);
      // Headers begun and never finished: the server answers 408 and closes (Node checks every 30 s at most).
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n'),
        );
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    }
  }, 90_000);

  it('serves no internal route on the public port, and none without the token on the internal one', async () => {
    const config = suite.spindle.app.get<SpindleConfig>(SPINDLE_CONFIG);
    const internal = config.urls.artifactStore;
    expect(internal).not.toBe(suite.url);
    const blob = `/internal/v1/blobs/${'0'.repeat(64)}`;
    expect((await http(suite.url, 'GET', blob)).status).toBe(404);
    const token = { [INTERNAL_TOKEN_HEADER]: config.internalToken! };
    expect((await http(suite.url, 'GET', blob, undefined, token)).status).toBe(404);
    expect((await http(internal, 'GET', blob, undefined, { authorization: '' })).status).toBe(403);
    expect((await http(internal, 'GET', blob, undefined, token)).status).toBe(404); // known route, no such blob
  });
});

function parsed(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// fetch cannot send a Host of its own choosing: node:http can.
async function rawRequest(base: string, method: string, path: string, headers: Record<string, string>) {
  const { request } = await import('node:http');
  return new Promise<{ status: number }>((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

// A key's secret part: everything after `spindle_<id>_` (base64url, which may itself hold '_').
function secretPartOf(key: string): string {
  const part = key.split('_').slice(2).join('_');
  expect(part.length).toBeGreaterThan(20);
  return part;
}
