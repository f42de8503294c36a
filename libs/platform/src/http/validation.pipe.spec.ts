import { ValidationError } from 'class-validator';
import { flattenValidationErrors } from './validation.pipe';

function error(
  property: string,
  constraints?: Record<string, string>,
  children: ValidationError[] = [],
): ValidationError {
  return Object.assign(new ValidationError(), { property, constraints, children });
}

describe('flattenValidationErrors', () => {
  it('names nested fields by path, with the rule that failed', () => {
    const errors = [
      error('limit', { min: 'limit must not be less than 1' }),
      error('settings', undefined, [error('maxJobs', { isInt: 'maxJobs must be an integer number' })]),
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'limit', rule: 'min', message: 'limit must not be less than 1' },
      { field: 'settings.maxJobs', rule: 'isInt', message: 'maxJobs must be an integer number' },
    ]);
  });
});
