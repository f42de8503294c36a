import { Client } from 'pg';
import { http } from '../support/http';
import { spindleSuite } from '../support/spindle-suite';

// The gateway hands a request's correlation id down explicitly (a controller's @CorrelationId(),
// then each use case to its command, its call to the artifact store or the secrets service):
// nothing keeps it in an async context. Each write below takes a different way down, on a
// different API, and every event it records, in every service's store, carries its id; a request
// without an id gets the one it was answered with.
describe('correlation ids, handed down from every API to every event store', () => {
  let db: Client | undefined;
  let eventTables: string[] = [];
  afterAll(async () => {
    await db?.end();
  });
  const suite = spindleSuite({ name: 'correlation' });

  beforeAll(async () => {
    db = new Client({ connectionString: suite.databaseUrl });
    await db.connect();
    const tables = await db.query<{ schema: string }>(
      `select table_schema as schema from information_schema.tables where table_name = 'events'`,
    );
    eventTables = tables.rows.map((t) => `"${t.schema}".events`);
  });

  // The events recorded under this id, anywhere, as `store:type`.
  async function eventsOf(correlationId: string): Promise<string[]> {
    const selects = eventTables.map(
      (t) => `select '${t.split('.')[0]!.replaceAll('"', '')}:' || type as event, global_position
                from ${t} where correlation_id = $1`,
    );
    const { rows } = await db!.query<{ event: string }>(
      `select event from (${selects.join(' union all ')}) e order by event`,
      [correlationId],
    );
    return rows.map((r) => r.event);
  }

  async function send(method: string, path: string, body: unknown, correlationId?: string) {
    const headers: Record<string, string> =
      correlationId === undefined ? {} : { 'x-correlation-id': correlationId };
    const response = await http(suite.url, method, path, body, headers);
    expect(response.status).toBeLessThan(300);
    if (correlationId !== undefined) expect(response.headers.get('x-correlation-id')).toBe(correlationId);
    return response;
  }

  it('native: a create, an update and a delete of one resource, each under its own id', async () => {
    await send('POST', '/api/v1/contexts', { name: 'cid-etl' }, 'cid-native-create');
    await send('PUT', '/api/v1/contexts/cid-etl', { maxJobs: 2 }, 'cid-native-update');
    await send('DELETE', '/api/v1/contexts/cid-etl', undefined, 'cid-native-delete');
    expect(await eventsOf('cid-native-create')).toEqual(['scheduler:ContextCreated']);
    expect(await eventsOf('cid-native-update')).toEqual(['scheduler:ContextSettingsChanged']);
    expect(await eventsOf('cid-native-delete')).toEqual(['scheduler:ContextDeleted']);
  });

  it('a request without an id: its events carry the one it was answered with', async () => {
    await send('POST', '/api/v1/contexts', { name: 'cid-anonymous' });
    const deleted = await send('DELETE', '/api/v1/contexts/cid-anonymous', undefined);
    const answered = deleted.headers.get('x-correlation-id')!;
    expect(answered).toMatch(/^[0-9a-f-]{36}$/);
    expect(await eventsOf(answered)).toEqual(['scheduler:ContextDeleted']);
  });

  it('native settings and the cluster configuration, and the same through Genvid', async () => {
    // Each a change: a document equal to the settings in force records nothing.
    await send('PUT', '/api/v1/settings', { logs: { maxPageLines: 20_000 } }, 'cid-settings');
    await send('PUT', '/api/v1/log-catalogue', [], 'cid-log-catalogue');
    await send(
      'POST',
      '/compat/genvid/v1/settings',
      { logs: { maxPageLines: 1_000 } },
      'cid-genvid-settings',
    );
    const settings = await eventsOf('cid-settings');
    expect(settings).toHaveLength(1);
    expect(await eventsOf('cid-genvid-settings')).toEqual(settings);
    expect(await eventsOf('cid-log-catalogue')).toHaveLength(1);
  });

  it("Ilum: a cluster's create and delete, with the secrets service's events for its credentials", async () => {
    const cluster = {
      name: 'cid-k8s',
      type: 'k8s',
      url: 'https://k8s.example:6443',
      username: 'spark',
      password: 'cid-password',
    };
    const created = await send('POST', '/compat/ilum/api/v1/cluster', cluster, 'cid-ilum-create');
    const id = (created.body as { clusterId: string }).clusterId;
    await send('DELETE', `/compat/ilum/api/v1/cluster/${id}`, undefined, 'cid-ilum-delete');
    const createdEvents = await eventsOf('cid-ilum-create');
    expect(createdEvents).toContain('scheduler:ClusterCreated');
    expect(createdEvents.some((e) => e.startsWith('secrets:'))).toBe(true);
    const deletedEvents = await eventsOf('cid-ilum-delete');
    expect(deletedEvents).toContain('scheduler:ClusterDeleted');
    expect(deletedEvents.some((e) => e.startsWith('secrets:'))).toBe(true);
  });

  it("Mist: a context's create and delete; an artifact's upload and delete in the artifact store", async () => {
    await send('POST', '/compat/mist/v2/api/contexts', { name: 'cid-mist', maxJobs: 1 }, 'cid-mist-create');
    await send('DELETE', '/compat/mist/v2/api/contexts/cid-mist', undefined, 'cid-mist-delete');
    expect(await eventsOf('cid-mist-create')).toEqual(['scheduler:ContextCreated']);
    expect(await eventsOf('cid-mist-delete')).toEqual(['scheduler:ContextDeleted']);
    const form = new FormData();
    form.append('file', new Blob(['module.exports = {};\n']), 'cid.js');
    await send('POST', '/compat/mist/v2/api/artifacts', form, 'cid-mist-upload');
    await send('DELETE', '/compat/mist/v2/api/artifacts/cid.js', undefined, 'cid-mist-artifact-delete');
    expect(await eventsOf('cid-mist-upload')).toEqual(['artifact_store:ArtifactStored']);
    expect(await eventsOf('cid-mist-artifact-delete')).toEqual(['artifact_store:ArtifactDeleted']);
  });
});
