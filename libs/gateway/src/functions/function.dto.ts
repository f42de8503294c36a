import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  ARTIFACT_NAME_PATTERN,
  CONTEXT_NAME_PATTERN,
  FUNCTION_LIBRARIES_MAX,
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

// A further artifact on the program path of the function's jobs.
export class FunctionLibraryDto {
  @ApiProperty({ description: 'Name of an uploaded artifact', example: 'helpers.py' })
  @IsString()
  @MaxLength(255)
  artifact!: string;

  @ApiPropertyOptional({
    description:
      'Its file name beside the program, which the program imports it by (`helpers.py` for python ' +
      "`import helpers`, node `require('./helpers.js')`); default: the artifact's name",
    example: 'helpers.py',
  })
  @IsOmittable()
  @Matches(ARTIFACT_NAME_PATTERN, {
    message:
      'fileName must be a plain file name: letters, digits, "_", ".", "+" or "-", no ".." (at most 255)',
  })
  fileName?: string;
}

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

  @ApiPropertyOptional({
    type: [FunctionLibraryDto],
    maxItems: FUNCTION_LIBRARIES_MAX,
    description:
      'Further artifacts a job of this function has on its program path beside `artifact`, fetched with it ' +
      '(and checked against their content hash) before the job starts: python modules, packages as ' +
      '.zip/.egg/.whl (on `sys.path`), node modules (beside the program, for relative imports), jars (on the ' +
      'class path of `jvm` and `jvm-runner`). An artifact in use as a library cannot be deleted.',
  })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(FUNCTION_LIBRARIES_MAX, {
    message: `libraries must hold at most ${FUNCTION_LIBRARIES_MAX} artifacts`,
  })
  @ValidateNested({ each: true })
  @Type(() => FunctionLibraryDto)
  libraries?: FunctionLibraryDto[];
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
  @ApiProperty({
    type: [FunctionLibraryDto],
    description: "Further artifacts on its jobs' program path, each with its file name there",
  })
  libraries!: Required<FunctionLibraryDto>[];
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
      libraries: view.libraries ?? [],
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
