import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';

export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Spindle API')
    .setDescription(
      'The native API of Spindle, an event-sourced control plane for compute jobs. ' +
        'Errors are RFC 9457 application/problem+json documents whose `errors` name each offending field.',
    )
    .setVersion(version)
    .build();
  return SwaggerModule.createDocument(app, config);
}

// OpenAPI 3 at /api/openapi.json and Swagger UI at /docs.
export function mountOpenApi(app: INestApplication, version: string): void {
  const document = buildOpenApiDocument(app, version);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'api/openapi.json',
    yamlDocumentUrl: 'api/openapi.yaml',
  });
}
