import { HttpException, HttpStatus } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ProblemException } from './problem-details';

// How large a body a route reads into memory (JSON, text, forms). Uploads are not among them:
// multipart files and the artifact store's octet-stream are streamed to disk and bounded by
// ARTIFACT_MAX_BYTES as they arrive, whatever these say.
export const BODY_LIMITS = {
  // Every route unless it says otherwise: names, definitions, settings, keys.
  default: 64 * 1024,
  // Routes whose body carries job arguments, code or secret values. Each is bounded further by
  // its own rule where it has one; all fit one Kafka event (1 MiB), whose publication would
  // otherwise hold up every event behind it.
  large: 512 * 1024,
} as const;

// A route that reads more than BODY_LIMITS.default: `@BodyLimit(BODY_LIMITS.large)`.
export function BodyLimit(bytes: number): MethodDecorator {
  return RouteConfig({ bodyLimit: bytes });
}

// Gives every route registered from now on its limit (Fastify reads a route's own `bodyLimit`
// before the server's). Call before the routes are registered (Nest does at init).
export function installBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const declared = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    route.bodyLimit ??= typeof declared === 'number' ? declared : BODY_LIMITS.default;
  });
}

// Fastify's refusal of a body past the route's limit, as a problem that names the limit (every
// surface renders it in its own shape); undefined for any other error. Nest hands Fastify's
// errors on as a plain HttpException with their status and message; Spindle's own 413s (uploads)
// are ProblemExceptions already.
export function bodyTooLarge(
  exception: unknown,
  limitBytes: number | undefined,
): ProblemException | undefined {
  const fromFastify =
    (exception as { code?: unknown } | null)?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ||
    (exception instanceof HttpException &&
      !(exception instanceof ProblemException) &&
      exception.getStatus() === Number(HttpStatus.PAYLOAD_TOO_LARGE));
  if (!fromFastify) return undefined;
  const limit = limitBytes === undefined ? 'its limit' : `at most ${bytesText(limitBytes)}`;
  const message = `body is larger than this route accepts (${limit})`;
  return new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, 'too-large', 'Content Too Large', message, [
    { field: 'body', rule: 'maxBytes', message },
  ]);
}

function bytesText(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB, ${bytes} bytes`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB, ${bytes} bytes`;
  return `${bytes} bytes`;
}
