import { http } from './http';
import type { SpindleSuite } from './spindle-suite';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

// One operation of one surface's OpenAPI document: `api` (the native API) or a dialect's name.
export interface Route {
  readonly surface: string;
  readonly method: string;
  readonly path: string; // as the document names it, with {params}
  readonly operation: Json; // the document's operation object
  readonly doc: Json; // the whole document, to resolve $refs
}

// Every operation of every surface Spindle serves, read from the documents it publishes, so a
// suite generated from them covers a new route without anyone remembering it.
export async function openApiRoutes(suite: SpindleSuite): Promise<Route[]> {
  const native = await http(suite.url, 'GET', '/api/openapi.json', undefined, { authorization: '' });
  const docs: [string, Json][] = [['api', native.body]];
  for (const name of Object.keys(suite.spindle.dialectUrls)) {
    const doc = await http(suite.url, 'GET', `/compat/${name}/openapi.json`, undefined, {
      authorization: '',
    });
    docs.push([name, doc.body]);
  }
  return docs.flatMap(([surface, doc]) =>
    Object.entries(doc.paths as Json).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({
        surface,
        method: m.toUpperCase(),
        path,
        operation: item[m] as Json,
        doc,
      })),
    ),
  );
}

// The route's URL on the surface's own listener: a dialect's on its port, without /compat/<name>.
export function routeUrl(suite: SpindleSuite, route: Pick<Route, 'surface'>, path: string): string {
  if (route.surface === 'api') return suite.url + path;
  return suite.spindle.dialectUrls[route.surface]! + path.replace(`/compat/${route.surface}`, '');
}

// A schema with its $ref resolved in the route's document.
export function resolveSchema(route: Route, schema: Json | undefined): Json | undefined {
  if (!schema?.['$ref']) return schema;
  return route.doc['components']?.['schemas']?.[String(schema['$ref']).split('/').pop()!];
}
