import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  CONTEXT_NAME_PATTERN,
  FUNCTION_NAME_PATTERN,
  FUNCTION_RETRIES_MAX,
  RUNTIMES,
  TAG_PATTERN,
} from '@spindle/contracts';
import type { Runtime } from '@spindle/contracts';
import type { FunctionView } from '@spindle/read-models';
import { PageQueryDto } from '../pagination.dto';
import { SecretRefDto, SecretRefsProperty } from '../secrets/secret-ref.dto';
import { IsOmittable } from '@spindle/platform';

export class CreateFunctionDto {
  @ApiProperty({ description: 'Unique name', example: 'sum' })
  @IsString()
  @Matches(FUNCTION_NAME_PATTERN, {
    message:
      'name must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 128)',
  })
  name!: string;

  @ApiProperty({ description: 'Name of an uploaded artifact', example: 'sum.py' })
  @IsString()
  @MaxLength(255)
  artifact!: string;

  @ApiProperty({ enum: RUNTIMES, example: 'python' })
  @IsIn(RUNTIMES)
  runtime!: Runtime;

  @ApiPropertyOptional({
    description:
      'What to call: a node export, a python function, a JVM main class (Mist className); empty for exec',
    example: 'run',
  })
  @IsOmittable()
  @IsString()
  @MaxLength(512)
  entrypoint?: string;

  @ApiPropertyOptional({
    description: 'Context used when a job names none',
    example: 'default',
    default: 'default',
  })
  @IsOmittable()
  @Matches(CONTEXT_NAME_PATTERN, { message: 'defaultContext must be a context name' })
  defaultContext?: string;

  @ApiPropertyOptional({ type: [String], example: ['etl', 'team:data'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(TAG_PATTERN, {
    each: true,
    message: 'each tag must be letters, digits, "_", ".", ":" or "-" (at most 64)',
  })
  tags?: string[];

  @ApiPropertyOptional({
    description:
      'How many times a job of this function is put back in its queue and run again from the start ' +
      'when its worker host dies under it (stops heartbeating); 0: the job fails. Jobs keep the policy ' +
      'they were submitted with.',
    minimum: 0,
    maximum: FUNCTION_RETRIES_MAX,
    default: 0,
    example: 2,
  })
  @IsOmittable()
  @IsInt({ message: 'retries must be a whole number' })
  @Min(0, { message: 'retries must be at least 0' })
  @Max(FUNCTION_RETRIES_MAX, { message: `retries must be at most ${FUNCTION_RETRIES_MAX}` })
  retries?: number;

  @SecretRefsProperty(
    'Secrets every job of this function gets as environment variables (each key a variable of the same name); ' +
      'a submit may add more. Checked when a job starts, not here.',
  )
  secrets?: SecretRefDto[];
}

// PUT: any subset of the settings; what is left out keeps its value.
export class FunctionSettingsDto extends PartialType(OmitType(CreateFunctionDto, ['name'] as const)) {}

export class FunctionListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only functions carrying this tag' })
  @IsOmittable()
  @Matches(TAG_PATTERN)
  tag?: string;
}

export class FunctionDto {
  @ApiProperty({ example: 'sum' }) name!: string;
  @ApiProperty({ example: 'sum.py' }) artifact!: string;
  @ApiProperty({ example: 'run' }) entrypoint!: string;
  @ApiProperty({ enum: RUNTIMES, example: 'python' }) runtime!: Runtime;
  @ApiProperty({ example: 'default' }) defaultContext!: string;
  @ApiProperty({ type: [String], example: ['etl'] }) tags!: string[];
  @ApiProperty({
    description: 'Retries of a job whose worker host died under it',
    minimum: 0,
    maximum: FUNCTION_RETRIES_MAX,
    example: 0,
  })
  retries!: number;
  @ApiProperty({ type: [SecretRefDto], description: 'Secrets its jobs get (references, never values)' })
  secrets!: SecretRefDto[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(view: FunctionView): FunctionDto {
    return {
      name: view.name,
      artifact: view.artifact,
      entrypoint: view.entrypoint,
      runtime: view.runtime,
      defaultContext: view.defaultContext,
      tags: view.tags,
      retries: view.retries,
      secrets: view.secrets ?? [],
      createdAt: view.createdAt.toISOString(),
      updatedAt: view.updatedAt.toISOString(),
    };
  }
}

export class FunctionPageDto {
  @ApiProperty({ type: [FunctionDto] }) items!: FunctionDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
