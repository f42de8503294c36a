import { Catch, HttpStatus } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { DialectError, jsonErrorsFilter } from '../json-errors.filter';

export type IlumError = DialectError;
export const ilumNotFound = (message: string) => new DialectError(HttpStatus.NOT_FOUND, message);
export const ilumInvalid = (message: string) => new DialectError(HttpStatus.CONFLICT, message);

// A refusal's status as Ilum would answer it.
export function ilumStatusOf(status: number): number {
  if (status === 404 || status >= 500) return status;
  return 409; // 400, 403 (the default cluster), 409, 413, 415, 422
}

// Ilum's error model: every error body is `{"message": "..."}`; 404 for an unknown id or name
// (also a create naming a missing cluster), 409 for anything the request got wrong (Ilum's
// validationException: never 400), and a 5xx only for Spindle's own failures.
@Catch()
export class IlumErrorsFilter implements ExceptionFilter {
  private readonly filter = jsonErrorsFilter({ name: 'ilum', field: 'message', statusOf: ilumStatusOf });

  catch(exception: unknown, host: ArgumentsHost): void {
    this.filter.catch(exception, host);
  }
}
