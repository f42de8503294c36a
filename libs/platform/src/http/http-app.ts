import { ConsoleLogger, Logger } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BODY_LIMITS, installBodyLimits } from './body-limits';
import { CorrelationInterceptor } from './correlation';
import { NulTextPipe } from './nul-text.pipe';
import { ProblemDetailsFilter } from './problem-details.filter';
import { createValidationPipe } from './validation.pipe';

export interface HttpAppOptions {
  readonly logger?: boolean;
  readonly timeouts?: HttpTimeouts;
}

export interface HttpTimeouts {
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
}

// One way to build an HTTP surface: Fastify, problem+json errors, strict validation.
export async function createHttpApp(
  rootModule: Parameters<typeof NestFactory.create>[0],
  options: HttpAppOptions = {},
) {
  const app = await NestFactory.create<NestFastifyApplication>(
    rootModule,
    // Closing drops every connection, idle or not: a client holding a half-sent upload must not keep
    // a stopping process alive.
    new FastifyAdapter({
      bodyLimit: BODY_LIMITS.default, // each route's own: installBodyLimits
      forceCloseConnections: true,
      ...(options.timeouts ? { requestTimeout: options.timeouts.requestTimeoutMs } : {}),
    }),
    { bufferLogs: true, logger: options.logger === false ? false : new ConsoleLogger() },
  );
  installBodyLimits(app.getHttpAdapter().getInstance());
  if (options.timeouts) applyHttpTimeouts(app.getHttpServer(), options.timeouts);
  configureHttpApp(app);
  app.enableShutdownHooks();
  return app;
}

export function configureHttpApp(app: INestApplication): void {
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(new NulTextPipe(), createValidationPipe());
  app.useGlobalInterceptors(new CorrelationInterceptor());
}

export async function listen(app: NestFastifyApplication, port: number, host: string, name: string) {
  await app.listen(port, host);
  const url = await app.getUrl();
  new Logger(name).log(`listening on ${url}`);
  return url;
}

// A client that sends its request slowly (a byte a minute: slowloris) is cut off: 408 once the
// headers or the whole request take longer than allowed. Responses (SSE, downloads) are not timed.
export function applyHttpTimeouts(
  server: { requestTimeout: number; headersTimeout: number },
  timeouts: HttpTimeouts,
): void {
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = timeouts.headersTimeoutMs;
}
