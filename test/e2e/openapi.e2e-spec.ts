import { http } from '../support/http';
import { spindleSuite } from '../support/spindle-suite';

type Json = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

// The native OpenAPI document as a client reads it: every operation says what it does, what it
// answers and what that looks like, and every 4xx is a problem document. The document does not
// depend on the bus, so one mode is enough.
describe('the native OpenAPI document', () => {
  const suite = spindleSuite({
    name: 'openapi',
    env: { MIST_PORT: '0', ILUM_PORT: '0', GENVID_PORT: '0', APOLLO_PORT: '0' },
  });
  let doc: Json;

  beforeAll(async () => {
    const answer = await http(suite.url, 'GET', '/api/openapi.json');
    expect(answer.status).toBe(200);
    doc = answer.body;
  });

  const operations = (): [string, Json][] =>
    Object.entries(doc.paths as Json).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m): [string, Json] => [`${m.toUpperCase()} ${path}`, item[m]]),
    );

  const resolve = (schema: Json | undefined): Json | undefined => {
    if (!schema?.['$ref']) return schema;
    return doc.components.schemas[String(schema['$ref']).replace('#/components/schemas/', '')];
  };

  // An example in the media type, or in the schema, its items or any of its properties.
  const hasExample = (media: Json, seen = new Set<Json>()): boolean => {
    if (media['example'] !== undefined || media['examples'] !== undefined) return true;
    const schema = resolve(media['schema']);
    if (!schema || seen.has(schema)) return false;
    seen.add(schema);
    if (schema['example'] !== undefined) return true;
    if (schema['items'] && hasExample({ schema: schema['items'] }, seen)) return true;
    return Object.values((schema['properties'] ?? {}) as Json).some((p) => hasExample({ schema: p }, seen));
  };

  it('covers the native routes', () => {
    const names = operations().map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /api/v1/artifacts',
        'GET /api/v1/artifacts/{name}/content',
        'POST /api/v1/functions/{name}/jobs',
        'GET /api/v1/jobs/{id}/logs',
        'GET /api/v1/jobs/{id}/events',
        'GET /api/v1/events',
        'DELETE /api/v1/workers/{id}',
      ]),
    );
    expect(names.length).toBeGreaterThanOrEqual(25);
  });

  it('gives every operation a summary and a 2xx answer with a schema and an example', () => {
    const missing = operations().flatMap(([name, op]) => {
      const problems: string[] = [];
      if (!op['summary']) problems.push('summary');
      const ok = Object.entries(op['responses'] as Json).filter(([status]) => /^2/.test(status));
      if (ok.length === 0) problems.push('2xx response');
      for (const [status, response] of ok) {
        if (status === '204') continue; // no content, by definition
        const content = Object.entries((response['content'] ?? {}) as Json);
        if (content.length === 0) problems.push(`${status} content`);
        for (const [type, media] of content) {
          if (!media['schema']) problems.push(`${status} ${type} schema`);
          if (!hasExample(media)) problems.push(`${status} ${type} example`);
        }
      }
      for (const [type, media] of Object.entries((op['requestBody']?.['content'] ?? {}) as Json))
        if (!hasExample(media)) problems.push(`request ${type} example`);
      return problems.map((p) => `${name}: ${p}`);
    });
    expect(missing).toEqual([]);
  });

  it('types each media type of an answer on its own: text is a string, an event stream shows an event', () => {
    const logs = doc.paths['/api/v1/jobs/{id}/logs'].get.responses['200'].content;
    expect(resolve(logs['application/json'].schema)?.['properties']).toHaveProperty('items');
    expect(logs['text/plain'].schema).toEqual({ type: 'string' });
    for (const path of ['/api/v1/events', '/api/v1/jobs/{id}/events']) {
      const media = doc.paths[path].get.responses['200'].content['text/event-stream'];
      expect(media.schema.type).toBe('string');
      expect(media.example).toMatch(/^id: \d+\nevent: Job\w+\ndata: \{.*\}\n\n/);
    }
    const upload = doc.paths['/api/v1/artifacts'].post.requestBody.content['multipart/form-data'];
    expect(upload.schema.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(upload.schema.required).toEqual(['file']);
  });

  it('answers every 4xx with a ProblemDetails document naming the fields', () => {
    const problem = doc.components.schemas['ProblemDetails'];
    expect(Object.keys(problem.properties)).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'errors']),
    );
    expect(Object.keys(resolve(problem.properties.errors.items)!['properties'])).toEqual([
      'field',
      'rule',
      'message',
    ]);
    const wrong = operations().flatMap(([name, op]) =>
      Object.entries(op['responses'] as Json)
        .filter(([status]) => /^4/.test(status))
        .filter(([, response]) => {
          const media = response['content']?.['application/problem+json'];
          return media?.schema?.['$ref'] !== '#/components/schemas/ProblemDetails' || !hasExample(media);
        })
        .map(([status]) => `${name}: ${status}`),
    );
    expect(wrong).toEqual([]);
    const withBadRequest = operations().filter(([, op]) => op['responses']['400']);
    expect(withBadRequest.length).toBeGreaterThanOrEqual(10);
  });
});
