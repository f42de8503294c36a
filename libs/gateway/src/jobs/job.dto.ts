import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, IsObject, IsString, IsUUID, Matches, MaxLength, Validate } from 'class-validator';
import {
  CONTEXT_NAME_PATTERN,
  EXTERNAL_ID_MAX,
  FUNCTION_NAME_PATTERN,
  JOB_SOURCES,
  JOB_STATES,
  MAX_DURATION_MS,
  RUNTIMES,
} from '@spindle/contracts';
import type { JobSource, JobState, Runtime } from '@spindle/contracts';
import { DURATION_FORMAT_HINT, IsOmittable } from '@spindle/platform';
import type { JobView } from '@spindle/read-models';
import { IsDurationConstraint } from '../contexts/context.dto';
import { DurationRangeConstraint } from '../duration-range';
import { PageQueryDto } from '../pagination.dto';
import { SecretRefDto, SecretRefsProperty } from '../secrets/secret-ref.dto';

const TIMEOUT_RANGE = `${DURATION_FORMAT_HINT}, from 1ms to ${MAX_DURATION_MS}ms (about 24.8 days). Default and "Inf": no limit`;

export class SubmitJobDto {
  @ApiPropertyOptional({
    description: "The function's arguments: a JSON object (default {})",
    example: { a: 1, b: 2 },
    type: 'object',
    additionalProperties: true,
  })
  @IsOmittable()
  @IsObject({ message: 'args must be a JSON object' })
  args?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: "Context to run in (default: the function's defaultContext)",
    example: 'default',
  })
  @IsOmittable()
  @Matches(CONTEXT_NAME_PATTERN, { message: 'context must be a context name' })
  context?: string;

  @ApiPropertyOptional({
    description: `Give up (timed_out) if the job has not started within this long: ${TIMEOUT_RANGE}`,
    example: '30s',
  })
  @IsOmittable()
  @Validate(IsDurationConstraint)
  @Validate(DurationRangeConstraint, [1])
  startTimeout?: string;

  @ApiPropertyOptional({
    description: `Kill the job (timed_out) if it runs longer than this: ${TIMEOUT_RANGE}`,
    example: '5m',
  })
  @IsOmittable()
  @Validate(IsDurationConstraint)
  @Validate(DurationRangeConstraint, [1])
  performTimeout?: string;

  @ApiPropertyOptional({ description: "The caller's own id for the job, to find it by", example: 'order-42' })
  @IsOmittable()
  @IsString()
  @MaxLength(EXTERNAL_ID_MAX)
  externalId?: string;

  @SecretRefsProperty(
    "Secrets this job's process gets as environment variables, added to its function's (each key a variable " +
      'of the same name; `keys` picks a subset). A missing secret or key fails the job when it starts.',
  )
  secrets?: SecretRefDto[];
}

const toArray = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

export class JobListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: JOB_STATES,
    isArray: true,
    description: 'Only jobs in these states (repeat the parameter for several)',
  })
  @IsOmittable()
  @Transform(toArray)
  @IsArray()
  @IsIn(JOB_STATES, { each: true, message: `each state must be one of: ${JOB_STATES.join(', ')}` })
  state?: JobState[];

  @ApiPropertyOptional({ description: 'Only jobs of this function' })
  @IsOmittable()
  @Matches(FUNCTION_NAME_PATTERN, { message: 'function must be a function name' })
  function?: string;

  @ApiPropertyOptional({ description: 'Only jobs in this context' })
  @IsOmittable()
  @Matches(CONTEXT_NAME_PATTERN, { message: 'context must be a context name' })
  context?: string;

  @ApiPropertyOptional({ description: 'Only jobs placed on this worker' })
  @IsOmittable()
  @IsUUID('all', { message: 'worker must be a worker id' })
  worker?: string;

  @ApiPropertyOptional({ description: "Only jobs with this caller's id" })
  @IsOmittable()
  @IsString()
  @MaxLength(EXTERNAL_ID_MAX)
  externalId?: string;
}

export class JobDto {
  @ApiProperty({ format: 'uuid', example: '0193a5b2-7c1e-7f00-8000-1234567890ab' }) id!: string;
  @ApiProperty({ example: 'sum' }) function!: string;
  @ApiProperty({ example: 'default' }) context!: string;
  @ApiProperty({ enum: JOB_STATES, example: 'succeeded' }) state!: JobState;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { a: 1, b: 2 } })
  args!: Record<string, unknown>;
  @ApiProperty({ description: 'The return value once succeeded, else null', example: 3, nullable: true })
  result!: unknown;
  @ApiProperty({ description: 'Why it failed, was cancelled or timed out', nullable: true, type: String })
  error!: string | null;
  @ApiProperty({ nullable: true, type: String }) workerId!: string | null;
  @ApiProperty({ nullable: true, type: String }) hostId!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The OS process that ran it' }) pid!:
    number | null;
  @ApiProperty({ nullable: true, type: String, example: 'order-42' }) externalId!: string | null;
  @ApiProperty({
    enum: JOB_SOURCES,
    nullable: true,
    example: 'http',
    description:
      "Where the submit came in: `http` (a request to the native API or a dialect's HTTP routes), " +
      "`kafka` or `mqtt` (a start request read from a Kafka or an MQTT topic: Mist's async interface). " +
      'null for jobs recorded ' +
      'before sources were kept',
  })
  source!: JobSource | null;
  @ApiProperty({
    example: 1,
    minimum: 1,
    description:
      "Which run this is: 1, and one more each time its worker host died and its function's `retries` " +
      'put it back in its queue',
  })
  attempt!: number;
  @ApiProperty({
    type: [SecretRefDto],
    description: "The secrets its process gets (its function's and its own), by reference: never values",
  })
  secrets!: SecretRefDto[];
  @ApiProperty({ example: 'sum.js' }) artifact!: string;
  @ApiProperty({ enum: RUNTIMES, example: 'node' }) runtime!: Runtime;
  @ApiProperty({ nullable: true, type: String, example: '30s' }) startTimeout!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '5m' }) performTimeout!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Log lines, once finished' }) logLines!:
    number | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finishedAt!: string | null;

  static from(view: JobView): JobDto {
    return {
      id: view.id,
      function: view.function,
      context: view.context,
      state: view.state,
      args: view.args,
      result: view.result === null ? null : view.result.value,
      error: view.error,
      workerId: view.workerId,
      hostId: view.hostId,
      pid: view.pid,
      externalId: view.externalId,
      source: view.source,
      attempt: view.attempt,
      secrets: view.secrets ?? [],
      artifact: view.artifact,
      runtime: view.runtime,
      startTimeout: view.startTimeoutMs === null ? null : `${view.startTimeoutMs}ms`,
      performTimeout: view.performTimeoutMs === null ? null : `${view.performTimeoutMs}ms`,
      logLines: view.logLines,
      createdAt: view.createdAt.toISOString(),
      startedAt: view.startedAt?.toISOString() ?? null,
      finishedAt: view.finishedAt?.toISOString() ?? null,
    };
  }
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] }) items!: JobDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
