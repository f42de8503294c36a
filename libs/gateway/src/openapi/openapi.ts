import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { HealthModule } from '@spindle/backbone';
import { MistDialectModule } from '../dialects/mist/mist-dialect.module';
import { GatewayModule } from '../gateway.module';

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Spindle API')
    .setDescription(
      'The native API of Spindle, an event-sourced control plane for compute jobs. ' +
        'Errors are RFC 9457 application/problem+json documents whose `errors` name each offending field.',
    )
    .setVersion(version)
    .build();
  return SwaggerModule.createDocument(app, config, { include: [GatewayModule, HealthModule] });
}

export function buildMistOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Spindle: Hydrosphere Mist HTTP API v2')
    .setDescription(
      "Mist's HTTP API v2 as Mist's own server answers it, mapped onto Spindle's jobs, functions, contexts, " +
        'workers and artifacts. Served at /v2/api on the Mist port (default 2004) and at /compat/mist/v2/api ' +
        'on the main port. Errors are text/plain, as Mist sends them.',
    )
    .setVersion(version)
    .build();
  return SwaggerModule.createDocument(app, config, { include: [MistDialectModule] });
}

// OpenAPI 3 at /api/openapi.json and Swagger UI at /docs; Mist's at /compat/mist/openapi.json and
// /compat/mist/docs.
export function mountOpenApi(app: INestApplication, version: string): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app, version), {
    jsonDocumentUrl: 'api/openapi.json',
    yamlDocumentUrl: 'api/openapi.yaml',
  });
  SwaggerModule.setup('compat/mist/docs', app, buildMistOpenApiDocument(app, version), {
    jsonDocumentUrl: 'compat/mist/openapi.json',
  });
}
