import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, ValidateNested } from 'class-validator';
import { SECRET_ID_PATTERN, SECRET_KEY_PATTERN, SECRET_MAX_KEYS, SECRET_REFS_MAX } from '@spindle/contracts';
import type { SecretRef } from '@spindle/contracts';
import { IsOmittable } from '@spindle/platform';

// A secret a job's process gets as environment variables: every key, or the `keys` named.
export class SecretRefDto {
  @ApiProperty({ description: 'Secret id', example: 'warehouse-db' })
  @IsString()
  @Matches(SECRET_ID_PATTERN, {
    message:
      'id must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 128)',
  })
  id!: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Only these keys of the secret (default: all of them)',
    example: ['DB_PASSWORD'],
  })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SECRET_MAX_KEYS)
  @Matches(SECRET_KEY_PATTERN, {
    each: true,
    message: 'each key must be an environment variable name: a letter or "_", then letters, digits or "_"',
  })
  keys?: string[];
}

// The `secrets` field of a function or a submit.
export function SecretRefsProperty(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [SecretRefDto], description, maxItems: SECRET_REFS_MAX }),
    IsOmittable(),
    IsArray(),
    ArrayMaxSize(SECRET_REFS_MAX),
    ValidateNested({ each: true }),
    Type(() => SecretRefDto),
  );
}

export function toSecretRefs(dtos: readonly SecretRefDto[]): SecretRef[] {
  return dtos.map((d) => (d.keys === undefined ? { id: d.id } : { id: d.id, keys: [...d.keys] }));
}
