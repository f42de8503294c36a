import {
  IsInt,
  IsString,
  MaxLength,
  ValidationError,
  getMetadataStorage,
  validateSync,
} from 'class-validator';
import { createValidationPipe, flattenValidationErrors } from './validation.pipe';

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

// `patches/class-validator+0.15.1.patch`: a class's validation metadata is worked out once, not
// searched for among every registered class on each validation (typestack/class-validator#2686).
// What a class is validated against must still be all of its rules and its ancestors', also when
// rules are registered after it was first validated (a class defined later, PartialType's copies).
describe('class-validator metadata lookups (patched)', () => {
  class Base {
    @IsString()
    name!: string;
  }
  class Child extends Base {
    @IsInt()
    count!: number;
  }
  const rulesOf = (target: object) =>
    validateSync(target, { forbidUnknownValues: true }).flatMap((e) => Object.keys(e.constraints ?? {}));

  it('answers a lookup from what it worked out before', () => {
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(Child, '', false, false);
    expect(storage.getTargetValidationMetadatas(Child, '', false, false)).toBe(first);
    expect(storage.groupByPropertyName(first)).toBe(storage.groupByPropertyName(first));
  });

  it('validates against the class and its ancestors, rules added later included', async () => {
    expect(rulesOf(Object.assign(new Child(), { name: 1, count: 'x' })).sort()).toEqual([
      'isInt',
      'isString',
    ]);
    // A rule for Base registered after both were validated (what a decorator on a class loaded
    // later does): both see it at once.
    MaxLength(3)(Base.prototype, 'name');
    expect(rulesOf(Object.assign(new Base(), { name: 'long' }))).toEqual(['maxLength']);
    expect(rulesOf(Object.assign(new Child(), { name: 'long', count: 1 }))).toEqual(['maxLength']);
    // A subclass defined now inherits everything.
    class Later extends Child {
      @IsString()
      extra!: string;
    }
    expect(rulesOf(Object.assign(new Later(), { name: 'ok', count: 1, extra: 2 }))).toEqual(['isString']);
    // And the application's pipe refuses as before.
    await expect(
      createValidationPipe().transform(
        { name: 'long', count: 1, unknown: true },
        { type: 'body', metatype: Child },
      ),
    ).rejects.toMatchObject({
      errors: [
        { field: 'unknown', rule: 'whitelistValidation' },
        { field: 'name', rule: 'maxLength' },
      ],
    });
  });
});
