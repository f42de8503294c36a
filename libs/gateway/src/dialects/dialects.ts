import type { ExceptionFilter, Type } from '@nestjs/common';
import type { SpindleConfig } from '@spindle/platform';
import { ApolloDialectModule } from './apollo/apollo-dialect.module';
import { ApolloErrorsFilter } from './apollo/apollo-errors.filter';
import { GenvidErrorsFilter } from './genvid/genvid-errors.filter';
import { GenvidDialectModule } from './genvid/genvid-dialect.module';
import { IlumDialectModule } from './ilum/ilum-dialect.module';
import { IlumErrorsFilter } from './ilum/ilum-errors.filter';
import { MistDialectModule } from './mist/mist-dialect.module';

// One API of a system Spindle replaces, mapped onto the core. The gateway serves it under
// /compat/<name><path> on the main port, with its own OpenAPI document
// (/compat/<name>/openapi.json) and Swagger UI (/compat/<name>/docs); the process that runs the
// gateway also opens the system's own port, where the same routes answer at the system's own paths,
// so its clients change only host and port. A new dialect is one more entry here (see
// docs/adding.md).
export interface DialectSurface {
  readonly name: string;
  readonly module: Type<unknown>;
  readonly title: string;
  readonly description: string;
  // The system's own path prefixes, served on its port (`/v2/api`).
  readonly paths: readonly string[];
  readonly websocket?: boolean;
  readonly port: (config: SpindleConfig) => number;
  // The line logged when its port opens (`Mist API v2 on http://127.0.0.1:2004/v2/api`).
  readonly banner: (url: string) => string;
  // How its errors look when they arise before a route is chosen (bad JSON); unset: problem+json.
  readonly errors?: ExceptionFilter;
}

export const DIALECTS: readonly DialectSurface[] = [
  {
    name: 'mist',
    module: MistDialectModule,
    title: 'Spindle: Hydrosphere Mist HTTP API v2',
    description:
      "Mist's HTTP API v2 as Mist's own server answers it, mapped onto Spindle's jobs, functions, contexts, " +
      'workers and artifacts. Served at /v2/api on the Mist port (default 2004) and at /compat/mist/v2/api ' +
      'on the main port. Errors are text/plain, as Mist sends them.',
    paths: ['/v2/api'],
    websocket: true,
    port: (config) => config.ports.mist,
    banner: (url) => `Mist API v2 on ${url}/v2/api`,
  },
  {
    name: 'ilum',
    module: IlumDialectModule,
    title: 'Spindle: Ilum REST API v1',
    description:
      "Ilum's REST API (1.3.0) mapped onto Spindle's clusters and groups. Served at /api/v1 on the Ilum port (default " +
      '9888) and at /compat/ilum/api/v1 on the main port. Errors are `{"message": ...}`: 404 for unknown ids, ' +
      '409 for validation. Credentials are kept by the secrets service and read back as "***".',
    paths: ['/api/v1'],
    port: (config) => config.ports.ilum,
    banner: (url) => `Ilum API v1 on ${url}/api/v1`,
    errors: new IlumErrorsFilter(),
  },
  {
    name: 'genvid',
    module: GenvidDialectModule,
    title: 'Spindle: Genvid Cluster API',
    description:
      "The Genvid Cluster API's secrets and settings, mapped onto Spindle's secrets service and its " +
      'settings. Served at /v1 and /secrets on the Genvid port (default 8089) and under /compat/genvid ' +
      'on the main port. Errors are JSON `{"error": "..."}`.',
    paths: ['/v1', '/secrets'],
    port: (config) => config.ports.genvid,
    banner: (url) => `Genvid Cluster API on ${url}/v1`,
    errors: new GenvidErrorsFilter(),
  },
  {
    name: 'apollo',
    module: ApolloDialectModule,
    title: 'Spindle: Apollo coordinator API v1',
    description:
      "Apollo's coordinator REST API mapped onto Spindle's artifacts and MapReduce jobs. Served at /api/v1 " +
      'on the Apollo port (default 4750) and at /compat/apollo/api/v1 on the main port. Errors are ' +
      'text/plain, as the coordinator sends them; an unknown job or artifact is a 404 with an empty body.',
    paths: ['/api/v1'],
    port: (config) => config.ports.apollo,
    banner: (url) => `Apollo coordinator API on ${url}/api/v1`,
    errors: new ApolloErrorsFilter(),
  },
];
