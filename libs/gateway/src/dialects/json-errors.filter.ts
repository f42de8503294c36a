import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '@spindle/platform';

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
  // The one key of the error body (`{"error": ...}`, `{"message": ...}`); unset: the message as
  // text/plain with a final newline, as Go's http.Error writes it (Apollo), and an empty message
  // as an empty body.
  readonly field?: string;
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
        status = statusOf(exception.getStatus());
        message = exception.errors?.map((e) => `${e.field}: ${e.message}`).join('; ') || exception.message;
      } else if (exception instanceof HttpException) {
        status = statusOf(exception.getStatus());
        message = exception.message;
      } else {
        logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
      }
      if (options.field === undefined) {
        void reply.status(status);
        if (message === '') return void reply.send();
        return void reply
          .header('content-type', 'text/plain; charset=utf-8')
          .header('x-content-type-options', 'nosniff')
          .send(`${message}\n`);
      }
      void reply
        .status(status)
        .header('content-type', 'application/json; charset=utf-8')
        .send({ [options.field]: message });
    },
  };
}
