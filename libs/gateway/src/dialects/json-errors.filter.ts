import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException, bodyTooLarge, isAuthRefusal, requestCorrelationId } from '@spindle/platform';
import type { FieldViolation } from '@spindle/platform';

// A refusal in a dialect's own terms: the status its clients expect and a message.
export class DialectError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// Whatever was thrown, sorted once for every dialect: its own refusal (said as is), the core's
// problem (with the fields it names), Fastify's or Nest's HTTP errors (a body that is not JSON),
// or Spindle's own failure (logged; how much of it is said is the dialect's choice).
export type DialectFailure =
  | { readonly kind: 'dialect' | 'http'; readonly status: number; readonly message: string }
  | {
      readonly kind: 'problem';
      readonly status: number;
      readonly message: string;
      readonly violations: readonly FieldViolation[];
    }
  | { readonly kind: 'internal'; readonly status: number; readonly message: string };

export interface DialectErrorsOptions {
  readonly name: string; // the dialect, for the log
  readonly contentType: string;
  // A client refusal's status as the dialect answers it (Ilum answers 409 where others say 400).
  readonly statusOf?: (status: number) => number;
  // The body its clients read for a failure.
  readonly render: (failure: DialectFailure) => string | Record<string, unknown>;
}

// The one error-filter family of the dialects: each says only its content type and body.
export function dialectErrorsFilter(options: DialectErrorsOptions): ExceptionFilter {
  const logger = new Logger(options.name);
  const statusOf = options.statusOf ?? ((status: number) => status);
  return {
    catch(exception: unknown, host: ArgumentsHost): void {
      const request = host.switchToHttp().getRequest<FastifyRequest>();
      const failure = classify(
        bodyTooLarge(exception, request.routeOptions?.bodyLimit) ?? exception,
        statusOf,
      );
      if (failure.kind === 'internal') {
        const cause = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
        logger.error(`(${requestCorrelationId(request)}) ${cause}`);
      }
      void host
        .switchToHttp()
        .getResponse<FastifyReply>()
        .status(failure.status)
        .header('content-type', options.contentType)
        .send(options.render(failure));
    },
  };
}

function classify(exception: unknown, statusOf: (status: number) => number): DialectFailure {
  if (exception instanceof DialectError)
    return { kind: 'dialect', status: exception.status, message: exception.message };
  if (exception instanceof ProblemException)
    return {
      kind: 'problem',
      // A missing or insufficient key keeps its 401/403, whatever the dialect does with others.
      status: isAuthRefusal(exception) ? exception.getStatus() : statusOf(exception.getStatus()),
      message: exception.message,
      violations: exception.errors ?? [],
    };
  if (exception instanceof HttpException)
    return { kind: 'http', status: statusOf(exception.getStatus()), message: exception.message };
  return {
    kind: 'internal',
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    message: exception instanceof Error ? exception.message : String(exception),
  };
}

export interface JsonErrorsOptions {
  readonly name: string; // the dialect, for the log
  readonly field: string; // the one key of the error body (`{"error": ...}`, `{"message": ...}`)
  readonly statusOf?: (status: number) => number;
}

// Errors as a dialect whose clients read a JSON body with one message field; the core's problems
// name each field, Spindle's own failures are answered without their details.
export function jsonErrorsFilter(options: JsonErrorsOptions): ExceptionFilter {
  return dialectErrorsFilter({
    name: options.name,
    contentType: 'application/json; charset=utf-8',
    ...(options.statusOf ? { statusOf: options.statusOf } : {}),
    render: (failure) => ({ [options.field]: jsonMessageOf(failure) }),
  });
}

function jsonMessageOf(failure: DialectFailure): string {
  switch (failure.kind) {
    case 'dialect':
    case 'http':
      return failure.message;
    case 'problem':
      return (
        failure.violations
          .map((e) => (e.message.startsWith(e.field) ? e.message : `${e.field}: ${e.message}`))
          .join('; ') || failure.message
      );
    case 'internal':
      return 'internal error';
    default: {
      const unknownFailure: never = failure;
      throw new Error(`unexpected failure ${JSON.stringify(unknownFailure)}`);
    }
  }
}
