import { ApiProperty } from '@nestjs/swagger';
import { Validate, ValidatorConstraint } from 'class-validator';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import {
  SECRET_KEY_PATTERN,
  SECRET_MAX_KEYS,
  SECRET_TOTAL_MAX_BYTES,
  SECRET_VALUE_MAX_BYTES,
  secretMapBytes,
} from '@spindle/contracts';
import type { SecretSummary, SecretWithValues } from '@spindle/contracts';

// What is wrong with a map of values, naming keys but never a value; undefined when it is right.
export function secretMapProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'values must be an object mapping keys to strings';
  const entries = Object.entries(value);
  if (entries.length < 1 || entries.length > SECRET_MAX_KEYS)
    return `values must have 1 to ${SECRET_MAX_KEYS} keys`;
  const badKey = entries.find(([k]) => !SECRET_KEY_PATTERN.test(k));
  if (badKey)
    return `key "${badKey[0].slice(0, 130)}" is not an environment variable name: a letter or "_", then letters, digits or "_" (at most 128)`;
  const notString = entries.find(([, v]) => typeof v !== 'string');
  if (notString) return `the value of ${notString[0]} must be a string`;
  const tooLong = entries.find(([, v]) => Buffer.byteLength(v as string, 'utf8') > SECRET_VALUE_MAX_BYTES);
  if (tooLong) return `the value of ${tooLong[0]} is longer than ${SECRET_VALUE_MAX_BYTES} bytes`;
  if (secretMapBytes(value as Record<string, string>) > SECRET_TOTAL_MAX_BYTES)
    return `keys and values together are longer than ${SECRET_TOTAL_MAX_BYTES} bytes`;
  return undefined;
}

@ValidatorConstraint({ name: 'isSecretMap' })
export class IsSecretMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return secretMapProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return secretMapProblem(args.value) ?? 'values are invalid';
  }
}

export class WriteSecretDto {
  @ApiProperty({
    description: `Keys (environment variable names) to string values: 1 to ${SECRET_MAX_KEYS} keys, each value at most ${SECRET_VALUE_MAX_BYTES} bytes (UTF-8), all keys and values at most ${SECRET_TOTAL_MAX_BYTES} bytes. Replaces the whole map: a new version.`,
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { DB_USER: 'etl', DB_PASSWORD: 's3cr3t' },
  })
  @Validate(IsSecretMapConstraint)
  values!: Record<string, string>;
}

export class SecretDto {
  @ApiProperty({ example: 'warehouse-db' }) id!: string;
  @ApiProperty({ description: 'Every write is a new version; reads give the latest', example: 2 })
  version!: number;
  @ApiProperty({
    description: 'Key names of the latest version (never values)',
    example: ['DB_PASSWORD', 'DB_USER'],
  })
  keys!: string[];
  @ApiProperty({ format: 'date-time', description: 'First version (since the secret was last deleted)' })
  createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'Latest version' }) updatedAt!: string;

  static from(summary: SecretSummary): SecretDto {
    return {
      id: summary.id,
      version: summary.version,
      keys: [...summary.keys],
      createdAt: summary.createdAt,
      updatedAt: summary.updatedAt,
    };
  }
}

export class SecretWithValuesDto extends SecretDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { DB_USER: 'etl', DB_PASSWORD: 's3cr3t' },
  })
  values!: Record<string, string>;

  static fromRead(read: SecretWithValues): SecretWithValuesDto {
    return { ...SecretDto.from(read), values: { ...read.values } };
  }
}

export class SecretPageDto {
  @ApiProperty({ type: [SecretDto] }) items!: SecretDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
