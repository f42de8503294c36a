import { ValidatorConstraint } from 'class-validator';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import { MAX_DURATION_MS } from '@spindle/contracts';
import { parseDuration } from '@spindle/platform';

// A duration from `min` ms (the constraint's argument) to MAX_DURATION_MS, or "Inf". Text that is
// no duration at all passes here: the isDuration rule reports it.
@ValidatorConstraint({ name: 'durationRange' })
export class DurationRangeConstraint implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || ms === null) return true;
    return ms >= minOf(args) && ms <= MAX_DURATION_MS;
  }
  defaultMessage(args: ValidationArguments): string {
    return `$property must be from ${minOf(args)}ms to ${MAX_DURATION_MS}ms (about 24.8 days), or "Inf"`;
  }
}

function minOf(args: ValidationArguments): number {
  return (args.constraints[0] as number | undefined) ?? 0;
}
