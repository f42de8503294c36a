import { randomUUID } from 'node:crypto';
import { EventTopics } from '@spindle/contracts';
import { readKafkaTopic } from '@spindle/testing';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { captureOutput, tablesHolding } from '../support/leaks';
import { expectRebuildRestores } from '../support/rebuild';
import { spindleSuite } from '../support/spindle-suite';

// An Ilum client changes only host and port: everything here talks to the Ilum port's own paths.
describe.each(SPINDLE_MODES)('Ilum clusters over %s', (mode, env) => {
  const marker = `MARKER-${randomUUID()}`;
  let output: ReturnType<typeof captureOutput>;
  const responses: string[] = [];
  beforeAll(() => {
    output = captureOutput();
  });
  afterAll(() => output.restore());
  const suite = spindleSuite({ name: 'ilum-clusters', env, logger: true });

  const ilum = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const res = await http(suite.spindle.dialectUrls['ilum']!, method, `/api/v1${path}`, body, headers);
    responses.push(res.text);
    return res;
  };

  const k8s = {
    name: 'prod-k8s',
    type: 'k8s',
    description: 'production',
    url: 'https://k8s.example:6443',
    username: 'spark',
    password: `${marker}-password`,
    clientKey: `${marker}-key`,
    sparkStorage: 'lake',
    storages: {
      lake: {
        type: 's3',
        sparkBucket: 'spark',
        dataBucket: 'data',
        endpoint: 'http://minio:9000',
        accessKey: `${marker}-access`,
        secretKey: `${marker}-secret`,
      },
    },
  };

  it('has the default local cluster, which cannot be deleted', async () => {
    const names = await ilum('GET', '/cluster/names');
    expect(names.status).toBe(200);
    expect(names.body).toEqual({ names: ['default'] });
    const got = await ilum('GET', '/cluster/default');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: 'default',
      name: 'default',
      type: 'local',
      threads: 4,
      sparkMaster: 'local[4]',
    });
    const del = await ilum('DELETE', '/cluster/default');
    expect(del.status).toBe(409);
    expect(del.body).toEqual({ message: expect.stringContaining('default cluster cannot be deleted') });
  });

  it('creates local, k8s and yarn clusters and reads them back, credentials redacted', async () => {
    const created = await ilum('POST', '/cluster', k8s);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ clusterId: expect.any(String) });
    const local = await ilum('POST', '/cluster', { name: 'laptop', type: 'local', threads: 2 });
    expect(local.status).toBe(200);
    const yarn = await ilum('POST', '/cluster', {
      id: 'yarn-1',
      name: 'hadoop',
      type: 'yarn',
      url: 'http://rm:8088',
    });
    expect(yarn.body).toEqual({ clusterId: 'yarn-1' });

    const got = await ilum('GET', `/cluster/${created.body.clusterId}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({
      id: created.body.clusterId,
      name: 'prod-k8s',
      description: 'production',
      sparkMaster: 'k8s://https://k8s.example:6443',
      sparkDeployMode: 'cluster',
      sparkStorage: 'lake',
      storages: {
        lake: {
          type: 's3',
          sparkBucket: 'spark',
          dataBucket: 'data',
          endpoint: 'http://minio:9000',
          accessKey: '***',
          secretKey: '***',
        },
      },
      defaultApplicationConfig: null,
      type: 'k8s',
      url: 'https://k8s.example:6443',
      username: 'spark',
      password: '***',
      clientKey: '***',
    });
    expect((await ilum('GET', '/cluster/yarn-1')).body).toMatchObject({ type: 'yarn', sparkMaster: 'yarn' });
    expect((await ilum('GET', `/cluster/${local.body.clusterId}`)).body).toMatchObject({ threads: 2 });
    expect((await ilum('GET', '/cluster/names')).body).toEqual({
      names: ['default', 'hadoop', 'laptop', 'prod-k8s'],
    });
  });

  it('pages with Spring totals, sort and search', async () => {
    const first = await ilum('GET', '/cluster?size=3&sort=name,desc');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      page: { number: 0, size: 3, offset: 0, paged: true },
      sort: ['name,desc'],
      totalElements: 4,
      totalPages: 2,
      first: true,
      last: false,
      empty: false,
    });
    expect(first.body.content.map((c: { name: string }) => c.name)).toEqual(['prod-k8s', 'laptop', 'hadoop']);
    const second = await ilum('GET', '/cluster?size=3&page=1&sort=name,desc');
    expect(second.body).toMatchObject({ first: false, last: true, totalElements: 4 });
    expect(second.body.content.map((c: { name: string }) => c.name)).toEqual(['default']);
    const beyond = await ilum('GET', '/cluster?page=9');
    expect(beyond.body).toMatchObject({ empty: true, content: [], totalElements: 4, totalPages: 1 });
    const byType = await ilum('GET', '/cluster?sort=type,asc&sort=name,asc');
    expect(byType.body.content.map((c: { name: string }) => c.name)).toEqual([
      'prod-k8s',
      'default',
      'laptop',
      'hadoop',
    ]);
    const defaults = await ilum('GET', '/cluster');
    expect(defaults.body.page).toEqual({ number: 0, size: 10, offset: 0, paged: true });
    const search = await ilum('GET', '/cluster?search=product');
    expect(search.body.content.map((c: { name: string }) => c.name)).toEqual(['prod-k8s']);
    expect(search.body.totalElements).toBe(1);
  });

  it('answers validation with 409 {message} and unknown ids with 404 {message}, never a 5xx', async () => {
    for (const body of [
      { type: 'k8s', url: 'https://x' },
      { name: 'no-url', type: 'k8s' },
      { name: 'bad type', type: 'mesos' },
      { name: 'threads', type: 'local', threads: 0 },
      { name: 'prod-k8s', type: 'local', threads: 1 },
      [1, 2],
    ]) {
      const res = await ilum('POST', '/cluster', body);
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ message: expect.any(String) });
    }
    const notJson = await fetch(`${suite.spindle.dialectUrls['ilum']}/api/v1/cluster`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(409);
    expect(await notJson.json()).toEqual({ message: expect.any(String) });
    for (const path of [
      '/cluster?size=0',
      '/cluster?page=-1',
      '/cluster?sort=password,asc',
      '/cluster?sort=name,up',
    ]) {
      const res = await ilum('GET', path);
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ message: expect.any(String) });
    }
    for (const [method, path] of [
      ['GET', '/cluster/nope'],
      ['DELETE', '/cluster/nope'],
      ['GET', '/no-such-route'],
    ] as const) {
      const res = await ilum(method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: expect.any(String) });
    }
  });

  it('deletes a cluster with an empty 200, then forgets it', async () => {
    const del = await ilum('DELETE', '/cluster/yarn-1');
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect((await ilum('GET', '/cluster/yarn-1')).status).toBe(404);
    expect((await ilum('GET', '/cluster/names')).body.names).not.toContain('hadoop');
    // Its id stays taken: a deleted cluster's id (and secret name) is never reused.
    const reused = await ilum('POST', '/cluster', { id: 'yarn-1', name: 'hadoop2', type: 'yarn' });
    expect(reused.status).toBe(409);
    expect(reused.body.message).toContain('yarn-1');
  });

  it('answers a create retried with its Idempotency-Key with the first answer, and nothing more', async () => {
    const key = { 'Idempotency-Key': `retry-${randomUUID()}` }; // a key is no credential: it is kept
    const body = { ...k8s, name: 'retried', password: `${marker}-retried` };
    const first = await ilum('POST', '/cluster', body, key);
    expect(first.status).toBe(200);
    const again = await ilum('POST', '/cluster', body, key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const got = await ilum('GET', `/cluster/${first.body.clusterId}`);
    expect(got.body).toMatchObject({ name: 'retried', password: '***' });
    // The same key with another request is refused (409, Ilum's validation), and changes nothing.
    const other = await ilum('POST', '/cluster', { ...body, name: 'other-name' }, key);
    expect(other.status).toBe(409);
    expect((await ilum('GET', '/cluster/names')).body.names).not.toContain('other-name');
    // Without the key, a retry is a 409 for the taken name, as Ilum answers.
    expect((await ilum('POST', '/cluster', body)).status).toBe(409);
    const badKey = await ilum('POST', '/cluster', body, { 'Idempotency-Key': 'é' });
    expect(badKey.status).toBe(409);
    expect(badKey.body.message).toContain('Idempotency-Key');
    expect((await ilum('DELETE', `/cluster/${first.body.clusterId}`)).status).toBe(200);
  });

  it('serves the same clusters on the native routes', async () => {
    const list = await http(suite.url, 'GET', '/api/v1/clusters?limit=2');
    responses.push(list.text);
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['default', 'laptop']);
    const next = await http(suite.url, 'GET', `/api/v1/clusters?limit=2&cursor=${list.body.nextCursor}`);
    responses.push(next.text);
    expect(next.body).toMatchObject({ items: [{ name: 'prod-k8s' }], nextCursor: null });
    expect(next.body.items[0]).toMatchObject({
      type: 'k8s',
      settings: { url: 'https://k8s.example:6443', username: 'spark' },
      credentials: ['clientKey', 'password', 'storages.lake.accessKey', 'storages.lake.secretKey'],
      secretId: `cluster-${next.body.items[0].id}`,
    });

    const created = await http(suite.url, 'POST', '/api/v1/clusters', {
      name: 'native',
      type: 'k8s',
      url: 'https://k:6443',
      password: `${marker}-native`,
    });
    responses.push(created.text);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/v1/clusters/${created.body.id}`);
    expect(created.body).toMatchObject({ name: 'native', credentials: ['password'] });
    const bad = await http(suite.url, 'POST', '/api/v1/clusters', {
      name: 'x',
      type: 'local',
      threads: 'many',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'threads' })]);
    expect((await http(suite.url, 'DELETE', '/api/v1/clusters/default')).status).toBe(403);
    expect((await http(suite.url, 'GET', '/api/v1/clusters/nope')).status).toBe(404);
    // The credentials are a secret of their own (listed by id and key names, never values)...
    const secretId = `cluster-${created.body.id}`;
    const secrets = await http(suite.url, 'GET', '/api/v1/secrets?limit=100');
    responses.push(secrets.text);
    expect(secrets.text).toContain(secretId);
    expect((await http(suite.url, 'DELETE', `/api/v1/clusters/${created.body.id}`)).status).toBe(204);
    // ...deleted with the cluster.
    const gone = await http(suite.url, 'GET', `/api/v1/secrets/${secretId}`);
    expect(gone.status).toBe(404);
    expect((await http(suite.url, 'GET', `/api/v1/clusters/${created.body.id}`)).status).toBe(404);
  });

  it('answers /license as GREEN, never expiring, and accepts and ignores a key, on both addresses', async () => {
    for (const [base, prefix] of [
      [suite.spindle.dialectUrls['ilum']!, '/api/v1'],
      [suite.url, '/compat/ilum/api/v1'],
    ] as const) {
      const status = await http(base, 'GET', `${prefix}/license`);
      expect(status.status).toBe(200);
      expect(status.body).toEqual({ status: 'GREEN', expire: null });
      const set = await http(base, 'POST', `${prefix}/license`, { key: 'ILUM-LICENSE-KEY' });
      expect(set.status).toBe(200);
      expect(set.text).toBe('');
      expect((await http(base, 'GET', `${prefix}/license`)).body).toEqual({ status: 'GREEN', expire: null });
      for (const body of [{}, { key: '' }, { key: 42 }]) {
        const refused = await http(base, 'POST', `${prefix}/license`, body);
        expect(refused.status).toBe(409);
        expect(refused.body).toEqual({ message: 'key: a licence key is text of 1 to 65536 characters' });
      }
    }
  });

  it('serves its OpenAPI document on both addresses', async () => {
    for (const [base, path] of [
      [suite.url, '/compat/ilum/openapi.json'],
      [suite.spindle.dialectUrls['ilum']!, '/openapi.json'],
    ] as const) {
      const doc = await http(base, 'GET', path);
      expect(doc.status).toBe(200);
      expect(doc.body.info.title).toBe('Spindle: Ilum REST API v1');
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining([
          '/compat/ilum/api/v1/cluster',
          '/compat/ilum/api/v1/cluster/names',
          '/compat/ilum/api/v1/cluster/{clusterId}',
          '/compat/ilum/api/v1/license',
        ]),
      );
    }
    const native = await http(suite.url, 'GET', '/api/openapi.json');
    expect(Object.keys(native.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/clusters', '/api/v1/clusters/{id}']),
    );
  });

  it("rebuilds clusters_v1 from the scheduler's event store into the same rows", async () => {
    const rows = await expectRebuildRestores(
      suite.databaseUrl,
      'clusters',
      'clusters_v1',
      "name = 'prod-k8s'",
    );
    expect(rows.length).toBeGreaterThanOrEqual(5); // default, 3 Ilum, 1 native (tombstones too)
  });

  it('keeps the credentials out of every response, table and log line', async () => {
    await new Promise((r) => setTimeout(r, 500)); // let relays and consumers settle
    for (const text of responses) expect(text).not.toContain(marker);
    const { searched, hits } = await tablesHolding(suite.databaseUrl, marker);
    expect(searched).toEqual(expect.arrayContaining(['scheduler.events', 'projector.clusters_v1']));
    expect(hits).toEqual([]);
    // The search finds what is there.
    expect((await tablesHolding(suite.databaseUrl, 'k8s.example')).hits).toEqual(
      expect.arrayContaining(['scheduler.events', 'projector.clusters_v1']),
    );
    if (mode === 'Kafka') {
      // Standalone sends commands in-process; what crosses Kafka is the events (the cluster's and the
      // secrets service's audit trail).
      const clusterEvents = await readKafkaTopic(suite.kafkaTopic(EventTopics.schedulerCluster), (rs) =>
        rs.some((r) => r.value.includes('"native"')),
      );
      expect(clusterEvents.some((r) => r.value.includes('prod-k8s'))).toBe(true);
      const secretEvents = await readKafkaTopic(suite.kafkaTopic(EventTopics.secret), (rs) =>
        rs.some((r) => r.value.includes('SecretDeleted') && r.value.includes('cluster-')),
      );
      expect(secretEvents.some((r) => r.value.includes('cluster-'))).toBe(true);
      for (const r of [...clusterEvents, ...secretEvents]) expect(r.value).not.toContain(marker);
    }
    expect(output.text()).toContain('Ilum API v1 on'); // the capture works
    expect(output.text()).not.toContain(marker);
  });
});
