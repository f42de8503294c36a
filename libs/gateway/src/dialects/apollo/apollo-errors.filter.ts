import { Catch, HttpStatus } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { DialectError, dialectErrorsFilter } from '../json-errors.filter';
import type { DialectFailure } from '../json-errors.filter';

// Apollo's coordinator answers errors as Go's http.Error does: text/plain, the message and a
// newline; an unknown job or artifact on GET is a 404 with an empty body.
export const apolloError = (status: HttpStatus, message: string) => new DialectError(status, message);
export const apolloEmptyNotFound = () => new DialectError(HttpStatus.NOT_FOUND, '');

@Catch()
export class ApolloErrorsFilter implements ExceptionFilter {
  private readonly filter = dialectErrorsFilter({
    name: 'apollo',
    contentType: 'text/plain; charset=utf-8',
    render: apolloTextOf,
  });

  catch(exception: unknown, host: ArgumentsHost): void {
    this.filter.catch(exception, host);
  }
}

function apolloTextOf(failure: DialectFailure): string {
  const message =
    failure.kind === 'problem'
      ? failure.violations
          .map((e) => (e.message.startsWith(e.field) ? e.message : `${e.field}: ${e.message}`))
          .join('; ') || failure.message
      : failure.kind === 'internal'
        ? 'internal error'
        : failure.message;
  return message === '' ? '' : `${message}\n`;
}
