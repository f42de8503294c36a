import { uniqueName } from '@spindle/testing';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

// The cluster's configuration documents on the native API: the same documents, through the same
// service, as Genvid's /v1/log and /v1/events, with the native API's problem+json refusals.
describe.each(SPINDLE_MODES)('cluster config on the native API over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'cluster-config', env });
  const api = (method: string, path: string, body?: unknown) =>
    http(suite.url, method, `/api/v1${path}`, body);
  const genvid = (method: string, path: string, body?: unknown) =>
    http(suite.spindle.dialectUrls['genvid']!, method, path, body);
  const expectProblem = (res: { status: number; headers: Headers; body: any }, field: string) => {
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  };

  it('replaces and reads the log catalogue, the one Genvid serves', async () => {
    const entry = {
      id: uniqueName('web'),
      group: 'front',
      job: 'web',
      task: 'server',
      fileName: 'stdout',
      logLevel: true,
    };
    const put = await api('PUT', '/log-catalogue', [entry]);
    expect(put.status).toBe(200);
    expect(put.body).toEqual([entry]);
    expect((await api('GET', '/log-catalogue')).body).toEqual([entry]);
    expect((await genvid('GET', '/v1/log/logs')).body).toEqual([entry]);

    expectProblem(await api('PUT', '/log-catalogue', [{ ...entry, logLevel: 'yes' }]), '0.logLevel');
    expectProblem(await api('PUT', '/log-catalogue', [entry, entry]), '(document)');
    expect((await api('GET', '/log-catalogue')).body).toEqual([entry]); // nothing changed
  });

  it('merges logger levels into the defaults, the ones Genvid serves, and refuses a bad level', async () => {
    const logger = uniqueName('svc');
    const set = await api('PATCH', `/loggers/defaults/${logger}`, { http: 'info', db: 'warning' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ http: 'info', db: 'warning' });
    const merged = await api('PATCH', `/loggers/defaults/${logger}`, { http: 'debug', db: '' });
    expect(merged.body).toEqual({ http: 'debug' });
    expect((await api('GET', '/loggers/defaults')).body[logger]).toEqual({ http: 'debug' });
    expect((await genvid('GET', '/v1/log/defaults')).body[logger]).toEqual({ http: 'debug' });

    expectProblem(await api('PATCH', `/loggers/defaults/${logger}`, { http: 'loud' }), 'http');
    expectProblem(await api('PATCH', `/loggers/defaults/${logger}`, {}), '(document)');
    const missing = await api('GET', '/loggers/allocations/01a23c22-6fe9-768b-ba1f-506ae28db75a');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.body.errors[0]).toMatchObject({ field: 'allocID', rule: 'exists' });
    expect((await api('PATCH', `/loggers/allocations/nope/${logger}`, { http: 'info' })).status).toBe(404);
  });

  it('replaces the event rules, reporting the rules left out, as Genvid does', async () => {
    const files = [
      {
        maps: [{ id: 'votes', source: 'vote', key: ['$data.color'], value: '$data.weight' }],
        reductions: [
          { id: 'perColor', source: 'votes', operations: ['count', 'sum'], period: 1000 },
          { id: 'orphan', source: 'nothing', operations: ['count'], period: 1000 },
        ],
      },
    ];
    const put = await api('PUT', '/event-rules', files);
    expect(put.status).toBe(200);
    expect(put.body.files).toEqual(files);
    expect(put.body.errors).toHaveLength(1);
    expect(put.body.errors[0]).toContain('orphan');
    expect((await api('GET', '/event-rules')).body).toEqual(put.body);
    const viaGenvid = await genvid('GET', '/v1/events');
    expect(viaGenvid.body).toEqual({ mapreduce: files, errors: put.body.errors[0] });

    expectProblem(
      await api('PUT', '/event-rules', [
        { reductions: [{ id: 'x', source: 'votes', operations: ['avg'], period: 1000 }] },
      ]),
      '0.reductions.0.operations.0',
    );
    expect((await api('GET', '/event-rules')).body.files).toEqual(files);
  });

  it('documents the routes in the OpenAPI document, each with its scope', async () => {
    const doc = (await http(suite.url, 'GET', '/api/openapi.json')).body;
    expect(doc.paths['/api/v1/log-catalogue'].put['x-spindle-scope']).toBe('write');
    expect(doc.paths['/api/v1/log-catalogue'].get['x-spindle-scope']).toBe('read');
    expect(doc.paths['/api/v1/loggers/defaults/{loggerId}'].patch['x-spindle-scope']).toBe('write');
    expect(doc.paths['/api/v1/event-rules'].put.requestBody.content['application/json'].schema).toMatchObject(
      {
        type: 'array',
      },
    );
    expect(doc.components.schemas.LogCatalogueEntryDto.required).toEqual(
      expect.arrayContaining(['id', 'group', 'job', 'task', 'fileName', 'logLevel']),
    );
  });
});
