import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
} from 'class-validator';
import type { ValidatorConstraintInterface } from 'class-validator';
import { CONTEXT_NAME_PATTERN, WORKER_MODES, namedFields } from '@spindle/contracts';
import type { ContextSettings, WorkerMode } from '@spindle/contracts';
import { DURATION_FORMAT_HINT, formatDuration, parseDuration, IsOmittable } from '@spindle/platform';
import type { ContextView } from '@spindle/read-models';
import { DurationRangeConstraint } from '../duration-range';

@ValidatorConstraint({ name: 'isDuration' })
export class IsDurationConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseDuration(value) !== undefined;
  }
  defaultMessage(): string {
    return `$property must be ${DURATION_FORMAT_HINT}`;
  }
}

@ValidatorConstraint({ name: 'isConfigMap' })
class IsConfigMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length <= 1_000 &&
      Object.values(value).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
    );
  }
  defaultMessage(): string {
    return '$property must map keys to strings, numbers or booleans (at most 1000 entries)';
  }
}

export class ContextSettingsDto {
  @ApiPropertyOptional({
    description: 'Engine configuration (Mist sparkConf)',
    example: { 'spark.executor.memory': '2g' },
  })
  @IsOmittable()
  @IsObject()
  @Validate(IsConfigMapConstraint)
  config?: Record<string, string | number | boolean>;

  @ApiPropertyOptional({
    description: `Idle time before a shared worker stops: ${DURATION_FORMAT_HINT}`,
    example: '3600s',
  })
  @IsOmittable()
  @Validate(IsDurationConstraint)
  @Validate(DurationRangeConstraint, [0])
  downtime?: string;

  @ApiPropertyOptional({
    description: 'Jobs a worker of this context runs at once',
    minimum: 1,
    maximum: 10000,
    example: 1,
  })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxJobs?: number;

  @ApiPropertyOptional({
    enum: WORKER_MODES,
    description: 'exclusive: a process per job; shared: a pool',
    example: 'exclusive',
  })
  @IsOmittable()
  @IsIn(WORKER_MODES)
  workerMode?: WorkerMode;

  @ApiPropertyOptional({ description: 'Start workers when Spindle starts', example: false })
  @IsOmittable()
  @IsBoolean()
  precreated?: boolean;

  @ApiPropertyOptional({ description: 'Extra options for the worker process', example: '' })
  @IsOmittable()
  @IsString()
  @MaxLength(10_000)
  runOptions?: string;

  @ApiPropertyOptional({ description: `Streaming batch duration: ${DURATION_FORMAT_HINT}`, example: '1s' })
  @IsOmittable()
  @Validate(IsDurationConstraint)
  @Validate(DurationRangeConstraint, [0])
  streamingDuration?: string;

  @ApiPropertyOptional({ description: 'Worker connection failures tolerated', minimum: 0, example: 5 })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  maxConnFailures?: number;
}

export class CreateContextDto extends ContextSettingsDto {
  @ApiProperty({ description: 'Unique name: letters, digits, "_", "." and "-"', example: 'etl-nightly' })
  @IsString()
  @Matches(CONTEXT_NAME_PATTERN, {
    message:
      'name must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 128)',
  })
  name!: string;
}

export class ContextDto {
  @ApiProperty({ example: 'etl-nightly' }) name!: string;
  @ApiProperty({ example: {} }) config!: Record<string, string | number | boolean>;
  @ApiProperty({ example: '3600s' }) downtime!: string;
  @ApiProperty({ example: 1 }) maxJobs!: number;
  @ApiProperty({ enum: WORKER_MODES, example: 'exclusive' }) workerMode!: WorkerMode;
  @ApiProperty({ example: false }) precreated!: boolean;
  @ApiProperty({ example: '' }) runOptions!: string;
  @ApiProperty({ example: '1s' }) streamingDuration!: string;
  @ApiProperty({ example: 5 }) maxConnFailures!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(view: ContextView): ContextDto {
    const s = view.settings;
    return {
      name: view.name,
      config: s.config,
      downtime: formatDuration(s.downtimeMs),
      maxJobs: s.maxJobs,
      workerMode: s.workerMode,
      precreated: s.precreated,
      runOptions: s.runOptions,
      streamingDuration: formatDuration(s.streamingDurationMs),
      maxConnFailures: s.maxConnFailures,
      createdAt: view.createdAt.toISOString(),
      updatedAt: view.updatedAt.toISOString(),
    };
  }
}

export class ContextPageDto {
  @ApiProperty({ type: [ContextDto] }) items!: ContextDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

// The settings a request names; the scheduler fills the rest (defaults on a create, the current
// values on an update).
export function settingsToSet(dto: ContextSettingsDto): Partial<ContextSettings> {
  return namedFields({
    config: dto.config,
    downtimeMs: dto.downtime === undefined ? undefined : parseDuration(dto.downtime)!,
    maxJobs: dto.maxJobs,
    workerMode: dto.workerMode,
    precreated: dto.precreated,
    runOptions: dto.runOptions,
    streamingDurationMs:
      dto.streamingDuration === undefined ? undefined : parseDuration(dto.streamingDuration)!,
    maxConnFailures: dto.maxConnFailures,
  });
}
