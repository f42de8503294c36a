import { Headers } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { ValidationProblem } from '@spindle/platform';

const KEY = /^[\x21-\x7e]{1,255}$/;

// Documents the Idempotency-Key header on a create.
export function ApiIdempotencyKey() {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Any unique string (1–255 visible ASCII characters). Retrying a request with the same key returns ' +
        'the first answer and changes nothing more; the same key with a different request is a 400.',
    }),
  );
}

export const IdempotencyKeyHeader = () => Headers('idempotency-key');

export function checkIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!KEY.test(value)) {
    throw new ValidationProblem([
      {
        field: 'Idempotency-Key',
        rule: 'isIdempotencyKey',
        message: 'Idempotency-Key must be 1–255 visible ASCII characters',
      },
    ]);
  }
  return value;
}
