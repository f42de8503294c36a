import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { ConsoleLogger, Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { CORRELATION_ID_HEADER } from '@spindle/contracts';

// What a client may send as its own id: visible ASCII, short enough for every envelope.
const CLIENT_ID = /^[\x21-\x7e]{1,200}$/;
// W3C trace context: version-traceid-parentid-flags; the trace id names the whole trace.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const NO_TRACE = '0'.repeat(32);

const current = new AsyncLocalStorage<string>();

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

// The correlation id of the request being handled, if any (commands, audit records and calls to
// other services carry it, so its events and logs can be found from the request).
export function currentCorrelationId(): string | undefined {
  return current.getStore();
}

// The same, or a new id outside any request (a command a process issues on its own).
export function requestCorrelationId(): string {
  return current.getStore() ?? randomUUID();
}

export function withCorrelationId<T>(id: string, run: () => T): T {
  return current.run(id, run);
}

// Answers every HTTP request's correlation id in X-Correlation-Id so a client can quote it, and,
// in a process that keeps a request context (`requestContext`: the gateway's), gives the request
// that id for the whole of its handling.
//
// The context is Node's AsyncLocalStorage, and on Node 20 the first `run` installs promise hooks
// for the rest of the process's life: every promise, of every request and of every Kafka batch
// and statement, calls into them, and V8 leaves its fast paths for `await`: about a seventh of
// the CPU of a submit (BENCHMARKS.md, 2026-12-08). A process without the gateway has no use for
// it (its internal routes read the id from the request, as the secrets service and the artifact
// store do): its first health check or metrics scrape used to install the hooks all the same.
@Injectable()
export class CorrelationInterceptor implements NestInterceptor {
  constructor(private readonly requestContext = true) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const id = correlationIdOf(http.getRequest<FastifyRequest>().headers);
    void http.getResponse<FastifyReply>().header(CORRELATION_ID_HEADER, id);
    if (!this.requestContext) return next.handle();
    // Subscribing runs the handler: inside the id's context, so everything it awaits sees the id.
    return new Observable((subscriber) => withCorrelationId(id, () => next.handle().subscribe(subscriber)));
  }
}

// Nest's console logger, with the correlation id of the request being handled after the context
// (`[http] (order-4711) GET /api/v1/jobs -> 500`): a client that quotes the id it was answered
// with leads to every line its request wrote. The id is visible ASCII (CLIENT_ID), so a client
// cannot break a line with it.
export class CorrelatedConsoleLogger extends ConsoleLogger {
  protected override formatContext(context: string): string {
    const id = current.getStore();
    return id === undefined ? super.formatContext(context) : `${super.formatContext(context)}(${id}) `;
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
