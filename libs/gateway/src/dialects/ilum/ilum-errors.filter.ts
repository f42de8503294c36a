import { Catch, HttpStatus } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import { DialectError, jsonErrorsFilter } from '../json-errors.filter';

export type IlumError = DialectError;
export const ilumNotFound = (message: string) => new DialectError(HttpStatus.NOT_FOUND, message);
export const ilumInvalid = (message: string) => new DialectError(HttpStatus.CONFLICT, message);

// Ilum's error body, `{"message": "..."}`, in OpenAPI: its 404s and its 409s.
const ERROR_BODY = { schema: { type: 'object', properties: { message: { type: 'string' } } } };
export const ApiIlumNotFound = (description: string) => ApiNotFoundResponse({ description, ...ERROR_BODY });
export const ApiIlumConflict = (description: string) => ApiConflictResponse({ description, ...ERROR_BODY });

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
