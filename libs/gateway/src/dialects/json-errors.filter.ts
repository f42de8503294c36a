import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException, isAuthRefusal } from '@spindle/platform';

// A refusal in a dialect's own terms: the status its clients expect and a message.
export class DialectError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface JsonErrorsOptions {
  readonly name: string; // the dialect, for the log
  readonly field: string; // the one key of the error body (`{"error": ...}`, `{"message": ...}`)
  // A client refusal's status as the dialect answers it (Ilum answers 409 where others say 400).
  readonly statusOf?: (status: number) => number;
}

// Errors as a dialect whose clients read a JSON body with one message field: its own refusals
// (DialectError), the core's (problem+json, naming each field), Fastify's before any route (a body
// that is not JSON); Spindle's own failures are logged and answered without their details.
export function jsonErrorsFilter(options: JsonErrorsOptions): ExceptionFilter {
  const logger = new Logger(options.name);
  const statusOf = options.statusOf ?? ((status: number) => status);
  return {
    catch(exception: unknown, host: ArgumentsHost): void {
      const reply = host.switchToHttp().getResponse<FastifyReply>();
      let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
      let message = 'internal error';
      if (exception instanceof DialectError) {
        status = exception.status;
        message = exception.message;
      } else if (exception instanceof ProblemException) {
        // A missing or insufficient key keeps its 401/403, whatever the dialect does with others.
        status = isAuthRefusal(exception) ? exception.getStatus() : statusOf(exception.getStatus());
        message = exception.errors?.map((e) => `${e.field}: ${e.message}`).join('; ') || exception.message;
      } else if (exception instanceof HttpException) {
        status = statusOf(exception.getStatus());
        message = exception.message;
      } else {
        logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
      }
      void reply
        .status(status)
        .header('content-type', 'application/json; charset=utf-8')
        .send({ [options.field]: message });
    },
  };
}
