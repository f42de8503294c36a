import { Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodyTooLarge } from './body-limits';
import { requestCorrelationId } from './correlation';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, ProblemException } from './problem-details';
import type { ProblemDetails } from './problem-details';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

// Renders every error of the HTTP surface as application/problem+json.
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const problem = this.toProblem(
      bodyTooLarge(exception, request.routeOptions?.bodyLimit) ?? exception,
      request.url,
    );
    if (problem.status >= 500) {
      // Log the cause for operators, under the id the client was answered with (it may quote it;
      // visible ASCII, so it cannot break the line); the client gets no internals.
      this.logger.error(
        `(${requestCorrelationId(request)}) ${request.method} ${request.url} -> ${problem.status}`,
        errorStack(exception),
      );
    }
    void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }

  private toProblem(exception: unknown, instance: string): ProblemDetails {
    if (exception instanceof ProblemException) {
      return {
        type: PROBLEM_TYPE_BASE + exception.problemType,
        title: exception.title,
        status: exception.getStatus(),
        detail: exception.message,
        instance,
        ...(exception.errors ? { errors: exception.errors } : {}),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const detail =
        typeof body === 'string'
          ? body
          : (messageOf((body as { message?: unknown }).message) ?? exception.message);
      return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, instance };
    }
    // Fastify raises its own errors (body too large, bad JSON) with a statusCode.
    const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return {
        type: 'about:blank',
        title: TITLES[statusCode] ?? 'Error',
        status: statusCode,
        detail: (exception as Error).message,
        instance,
      };
    }
    return {
      type: 'about:blank',
      title: TITLES[HttpStatus.INTERNAL_SERVER_ERROR] ?? 'Error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'An unexpected error occurred',
      instance,
    };
  }
}

function messageOf(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}

// Anything can be thrown, even a value that cannot be made a string (an object without a
// prototype): logging it must not fail the answer.
function errorStack(e: unknown): string {
  if (e instanceof Error) return e.stack ?? e.message;
  try {
    return String(e);
  } catch {
    return Object.prototype.toString.call(e);
  }
}
