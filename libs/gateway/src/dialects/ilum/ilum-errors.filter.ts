import { Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '@spindle/platform';

// Ilum's error model: every error body is `{"message": "..."}`; 404 for an unknown id or name
// (also a create naming a missing cluster), 409 for anything the request got wrong (Ilum's
// validationException: never 400), and a 5xx only for Spindle's own failures.
export class IlumError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const ilumNotFound = (message: string) => new IlumError(HttpStatus.NOT_FOUND, message);
export const ilumInvalid = (message: string) => new IlumError(HttpStatus.CONFLICT, message);

// A refusal's status as Ilum would answer it.
export function ilumStatusOf(status: number): number {
  if (status === 404 || status >= 500) return status;
  return 409; // 400, 403 (the default cluster), 409, 413, 415, 422
}

@Catch()
export class IlumErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ilum');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message: string;
    if (exception instanceof IlumError) {
      status = exception.status;
      message = exception.message;
    } else if (exception instanceof ProblemException) {
      status = ilumStatusOf(exception.getStatus());
      message = exception.errors?.map((e) => `${e.field}: ${e.message}`).join('; ') || exception.message;
    } else if (exception instanceof HttpException) {
      // Fastify's own refusals (a body that is not JSON, too large) are the client's doing too.
      status = ilumStatusOf(exception.getStatus());
      message = exception.message;
    } else {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
      message = 'internal error';
    }
    void reply.status(status).header('content-type', 'application/json').send({ message });
  }
}
