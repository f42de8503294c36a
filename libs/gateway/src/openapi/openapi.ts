import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, getSchemaPath } from '@nestjs/swagger';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
} from '@nestjs/swagger';
import { HealthModule } from '@spindle/backbone';
import { BASIC_SCHEME, BEARER_SCHEME, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '@spindle/platform';
import { DIALECTS } from '../dialects/dialects';
import type { DialectSurface } from '../dialects/dialects';
import { GatewayModule } from '../gateway.module';
import { ProblemDetailsDto } from './problem-details.dto';

// Swagger UI's Authorize offers both: a key as a bearer token, or as basic auth's password.
const BEARER_AUTH = {
  type: 'http' as const,
  scheme: 'bearer',
  description: 'An API key (`spindle_<id>_<secret>`, or SPINDLE_ADMIN_KEY): Authorization: Bearer <key>',
};
const BASIC_AUTH = {
  type: 'http' as const,
  scheme: 'basic',
  description: 'For clients that can only send basic auth: any user name, the API key as the password',
};

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Spindle API')
    .setDescription(
      'The native API of Spindle, an event-sourced control plane for compute jobs. ' +
        'Errors are RFC 9457 application/problem+json documents whose `errors` name each offending field.',
    )
    .setVersion(version)
    .addBearerAuth(BEARER_AUTH, BEARER_SCHEME)
    .addBasicAuth(BASIC_AUTH, BASIC_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    include: [GatewayModule, HealthModule],
    extraModels: [ProblemDetailsDto],
  });
  return withProblemDocuments(document);
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const PROBLEMS: Record<number, { type: string; title: string }> = {
  400: { type: 'validation', title: 'Request validation failed' },
  401: { type: 'unauthorized', title: 'Unauthorized' },
  403: { type: 'forbidden', title: 'Forbidden' },
  404: { type: 'not-found', title: 'Not Found' },
  409: { type: 'conflict', title: 'Conflict' },
  413: { type: 'too-large', title: 'Content Too Large' },
};

// Every 4xx of the native API is a problem document (ProblemDetailsFilter renders them all), and
// every route that takes a query, a header or a body can be refused with a 400 naming the field.
// The examples show the shape; the detail and errors of a real answer say what exactly was wrong.
function withProblemDocuments(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const field = firstInput(document, operation);
      if (field && !operation.responses['400'])
        operation.responses['400'] = { description: 'A parameter or the body is invalid' };
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response || !/^4\d\d$/.test(status) || isReference(response)) continue;
        response.content = {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: getSchemaPath(ProblemDetailsDto) },
            example: problemExample(Number(status), path, response, field, pathExamples(operation)),
          },
        };
      }
    }
  }
  return document;
}

function problemExample(
  status: number,
  path: string,
  response: ResponseObject,
  field: string | undefined,
  examples: Map<string, string>,
) {
  const known = PROBLEMS[status];
  let errors: { field: string; rule: string; message: string }[] = [];
  let detail = response.description;
  if (status === 400 && field) errors = [{ field, rule: 'invalid', message: `${field} is invalid` }];
  if (status === 413) errors = [{ field: 'file', rule: 'maxSize', message: 'the file exceeds the limit' }];
  // As notFound() words it: the kind of the path's first named resource, then its name.
  const missing = /\/(\w+?)s\/\{(\w+)\}/.exec(path);
  if (status === 404 && missing) {
    const name = examples.get(missing[2]!) ?? `{${missing[2]}}`;
    detail = `${missing[1]} ${name} does not exist`;
    errors = [{ field: missing[1]!, rule: 'exists', message: detail }];
  }
  return {
    type: known ? PROBLEM_TYPE_BASE + known.type : 'about:blank',
    title: known?.title ?? 'Error',
    status,
    detail,
    instance: path,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

function pathExamples(operation: OperationObject): Map<string, string> {
  const examples = new Map<string, string>();
  for (const p of operation.parameters ?? []) {
    if (isReference(p) || p.in !== 'path') continue;
    const example: unknown = p.example ?? (p.schema && !isReference(p.schema) ? p.schema.example : undefined);
    if (typeof example === 'string') examples.set(p.name, example);
  }
  return examples;
}

// What a 400 would name first: a query parameter, the body's first field, or a header.
function firstInput(document: OpenAPIObject, operation: OperationObject): string | undefined {
  const parameters = (operation.parameters ?? []).filter((p): p is ParameterObject => !isReference(p));
  const query = parameters.find((p) => p.in === 'query');
  if (query) return query.name;
  const body = operation.requestBody;
  if (body && !isReference(body)) {
    const schema = Object.values(body.content)[0]?.schema;
    const resolved =
      schema && isReference(schema)
        ? document.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')]
        : schema;
    const first = resolved && !isReference(resolved) ? Object.keys(resolved.properties ?? {})[0] : undefined;
    return first ?? 'body';
  }
  return parameters.find((p) => p.in === 'header')?.name;
}

function isReference(value: object): value is ReferenceObject {
  return '$ref' in value;
}

// A dialect's own OpenAPI document: its routes only, as its system's clients see them.
export function buildDialectOpenApiDocument(
  app: INestApplication,
  version: string,
  dialect: DialectSurface,
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(dialect.title)
    .setDescription(dialect.description)
    .setVersion(version)
    .addBearerAuth(BEARER_AUTH, BEARER_SCHEME)
    .addBasicAuth(BASIC_AUTH, BASIC_SCHEME)
    .build();
  return SwaggerModule.createDocument(app, config, { include: [dialect.module] });
}

// No validator badge: it is an image from validator.swagger.io, which the pages' Content-Security-
// Policy does not allow (security-headers.ts), and it would send the document's URL outside.
const SWAGGER_UI_OPTIONS = { validatorUrl: null };

// OpenAPI 3 at /api/openapi.json and Swagger UI at /docs; each dialect's at
// /compat/<name>/openapi.json and /compat/<name>/docs.
export function mountOpenApi(app: INestApplication, version: string): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app, version), {
    jsonDocumentUrl: 'api/openapi.json',
    yamlDocumentUrl: 'api/openapi.yaml',
    swaggerOptions: SWAGGER_UI_OPTIONS,
  });
  for (const dialect of DIALECTS)
    SwaggerModule.setup(
      `compat/${dialect.name}/docs`,
      app,
      buildDialectOpenApiDocument(app, version, dialect),
      {
        jsonDocumentUrl: `compat/${dialect.name}/openapi.json`,
        swaggerOptions: SWAGGER_UI_OPTIONS,
      },
    );
}
