import { Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemException } from '@spindle/platform';

// Mist answers errors as text/plain, never JSON: "Bad request: ..." for what the client got wrong,
// the bare message for a missing thing, "Server error: ..." for ours.
export class MistError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const mistNotFound = (message: string) => new MistError(HttpStatus.NOT_FOUND, message);
export const mistBadRequest = (message: string) =>
  new MistError(HttpStatus.BAD_REQUEST, `Bad request: ${message}`);

@Catch()
export class MistErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('mist');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let text: string;
    if (exception instanceof MistError) {
      status = exception.status;
      text = exception.message;
    } else if (exception instanceof ProblemException) {
      status = exception.getStatus();
      const detail = exception.errors?.map((e) => e.message).join('; ') || exception.message;
      text = status === 404 ? detail : status < 500 ? `Bad request: ${detail}` : `Server error: ${detail}`;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      text = status < 500 ? `Bad request: ${exception.message}` : `Server error: ${exception.message}`;
    } else {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
      text = `Server error: ${exception instanceof Error ? exception.message : String(exception)}`;
    }
    void reply.status(status).header('content-type', 'text/plain; charset=utf-8').send(text);
  }
}
