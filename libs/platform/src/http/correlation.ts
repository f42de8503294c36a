import { randomUUID } from 'node:crypto';
import { Injectable, createParamDecorator } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { CORRELATION_ID_HEADER } from '@spindle/contracts';

// What a client may send as its own id: visible ASCII, short enough for every envelope.
const CLIENT_ID = /^[\x21-\x7e]{1,200}$/;
// W3C trace context: version-traceid-parentid-flags; the trace id names the whole trace.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const NO_TRACE = '0'.repeat(32);

declare module 'fastify' {
  interface FastifyRequest {
    // The request's correlation id, settled once (requestCorrelationId).
    correlationId?: string;
  }
}

// The request's correlation id: the client's X-Correlation-Id, else the trace id of its
// traceparent, else a new one. An unusable header is ignored rather than refused: tracing never
// fails a request.
export function correlationIdOf(headers: Record<string, string | string[] | undefined>): string {
  const own = first(headers[CORRELATION_ID_HEADER]);
  if (own !== undefined && CLIENT_ID.test(own)) return own;
  const trace = TRACEPARENT.exec(first(headers['traceparent'])?.trim().toLowerCase() ?? '')?.[1];
  if (trace !== undefined && trace !== NO_TRACE) return trace;
  return randomUUID();
}

// The correlation id of a request, the same wherever its handling asks: commands, audit records
// and calls to other services carry it, so its events and logs can be found from the request.
//
// It is handed down explicitly (a controller's `@CorrelationId()` parameter, a `Caller`), never
// kept in a context: Node 20's AsyncLocalStorage installs promise hooks for the rest of the
// process's life at its first `run`, and then every promise, of every request and of every Kafka
// batch and statement, calls into them and V8 leaves its fast paths for `await` (BENCHMARKS.md,
// 2026-12-08 and its later section: a seventh of a submit's CPU with a stub on one VM, the hooks'
// own frames 3.4 % of the control process's busy time on another).
export function requestCorrelationId(request: Pick<FastifyRequest, 'headers' | 'correlationId'>): string {
  return (request.correlationId ??= correlationIdOf(request.headers));
}

// A route's parameter: its request's correlation id.
export const CorrelationId = createParamDecorator((_: unknown, context: ExecutionContext): string =>
  requestCorrelationId(context.switchToHttp().getRequest<FastifyRequest>()),
);

// Answers every HTTP request's correlation id in X-Correlation-Id, so a client can quote it.
@Injectable()
export class CorrelationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const http = context.switchToHttp();
      const id = requestCorrelationId(http.getRequest<FastifyRequest>());
      void http.getResponse<FastifyReply>().header(CORRELATION_ID_HEADER, id);
    }
    return next.handle();
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
