import { Catch, HttpStatus } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { DialectError, dialectErrorsFilter } from '../json-errors.filter';
import type { DialectFailure } from '../json-errors.filter';

export const mistNotFound = (message: string) => new DialectError(HttpStatus.NOT_FOUND, message);
export const mistBadRequest = (message: string) =>
  new DialectError(HttpStatus.BAD_REQUEST, `Bad request: ${message}`);

// Mist answers errors as text/plain, never JSON: "Bad request: ..." for what the client got wrong,
// the bare message for a missing thing, "Server error: ..." for ours.
@Catch()
export class MistErrorsFilter implements ExceptionFilter {
  private readonly filter = dialectErrorsFilter({
    name: 'mist',
    contentType: 'text/plain; charset=utf-8',
    render: mistTextOf,
  });

  catch(exception: unknown, host: ArgumentsHost): void {
    this.filter.catch(exception, host);
  }
}

function mistTextOf(failure: DialectFailure): string {
  switch (failure.kind) {
    case 'dialect':
      return failure.message;
    case 'problem': {
      const detail = failure.violations.map((e) => e.message).join('; ') || failure.message;
      return failure.status === 404 ? detail : prefixed(failure.status, detail);
    }
    case 'http':
    case 'internal':
      return prefixed(failure.status, failure.message);
    default: {
      const unknownFailure: never = failure;
      throw new Error(`unexpected failure ${JSON.stringify(unknownFailure)}`);
    }
  }
}

function prefixed(status: number, detail: string): string {
  return status < 500 ? `Bad request: ${detail}` : `Server error: ${detail}`;
}
