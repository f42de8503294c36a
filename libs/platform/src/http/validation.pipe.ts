import { ValidationPipe } from '@nestjs/common';
import { ValidateIf } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { ValidationProblem } from './problem-details';
import type { FieldViolation } from './problem-details';

// Flattens class-validator's tree into `field.path` + rule, so clients see exactly what to fix.
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldViolation[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({ field, rule, message }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new ValidationProblem(flattenValidationErrors(errors)),
  });
}

// A field a request may leave out. Left out (undefined), its other rules are skipped; null is not
// "left out": it is checked like any value, and refused by rules that want a string, a number or a
// duration. (class-validator's IsOptional skips null as well, and a null then reached code that
// expected a value: `{"downtime": null}` answered 500.) Every request DTO uses this instead.
export function IsOmittable(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
