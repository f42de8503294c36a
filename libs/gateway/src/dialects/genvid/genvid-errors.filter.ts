import { Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '@spindle/platform';

export const GENVID_PREFIX = 'compat/genvid';

// Genvid's Go services answer JSON; Spindle's Genvid errors are `{"error": "..."}` with 400 for
// what the client got wrong, 404 for a missing thing, 409 for a conflict and 5xx for ours.
export class GenvidError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const genvidNotFound = (message: string) => new GenvidError(HttpStatus.NOT_FOUND, message);
export const genvidBadRequest = (message: string) => new GenvidError(HttpStatus.BAD_REQUEST, message);

@Catch()
export class GenvidErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('genvid');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let error: string;
    if (exception instanceof GenvidError) {
      status = exception.status;
      error = exception.message;
    } else if (exception instanceof ProblemException) {
      status = exception.getStatus();
      error = exception.errors?.map((e) => `${e.field}: ${e.message}`).join('; ') || exception.message;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      error = exception.message;
    } else {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
      error = exception instanceof Error ? exception.message : String(exception);
    }
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send({ error });
  }
}
