import { HttpException, HttpStatus } from '@nestjs/common';
import type { CommandErrorCode } from '@spindle/contracts';

// RFC 9457 problem details, with `errors` naming each offending field and the rule it broke.
export interface FieldViolation {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly FieldViolation[];
  readonly [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://spindle.dev/problems/';

// Thrown by handlers that want a specific problem type; the filter renders it as is.
export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly problemType: string,
    readonly title: string,
    detail?: string,
    readonly errors?: readonly FieldViolation[],
  ) {
    super(detail ?? title, status);
  }
}

// The gateway's refusal of a request's credentials (401) or of their scope (403).
export function isAuthRefusal(exception: ProblemException): boolean {
  return exception.errors?.[0]?.field === 'Authorization';
}

export class ValidationProblem extends ProblemException {
  constructor(errors: readonly FieldViolation[]) {
    super(
      HttpStatus.BAD_REQUEST,
      'validation',
      'Request validation failed',
      errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      errors,
    );
  }
}

// The one map from an owner's refusal (a command's error code) to its HTTP status, for every
// service that answers HTTP with a command's result.
const STATUS_OF_COMMAND_ERROR: Record<CommandErrorCode, HttpStatus> = {
  invalid: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  forbidden: HttpStatus.FORBIDDEN,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  precondition_failed: HttpStatus.PRECONDITION_FAILED,
};

export function httpStatusOf(code: CommandErrorCode): HttpStatus {
  return STATUS_OF_COMMAND_ERROR[code];
}
