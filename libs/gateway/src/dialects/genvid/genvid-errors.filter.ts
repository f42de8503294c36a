import { Catch, HttpStatus } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { DialectError, jsonErrorsFilter } from '../json-errors.filter';

export const GENVID_PREFIX = 'compat/genvid';

export const genvidNotFound = (message: string) => new DialectError(HttpStatus.NOT_FOUND, message);
export const genvidBadRequest = (message: string) => new DialectError(HttpStatus.BAD_REQUEST, message);

// Genvid's Go services answer JSON; Spindle's Genvid errors are `{"error": "..."}` with 400 for
// what the client got wrong, 404 for a missing thing, 409 for a conflict and 5xx for ours.
@Catch()
export class GenvidErrorsFilter implements ExceptionFilter {
  private readonly filter = jsonErrorsFilter({ name: 'genvid', field: 'error' });

  catch(exception: unknown, host: ArgumentsHost): void {
    this.filter.catch(exception, host);
  }
}
