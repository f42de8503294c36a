import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  ALLOCATION_STATES,
  SERVICE_COUNT_MAX,
  SERVICE_JOB_NAME_PATTERN,
  SERVICE_JOB_STATUSES,
  TASK_GROUPS_MAX,
  summaryOf,
} from '@spindle/contracts';
import type { AllocationState, ServiceJobStatusName } from '@spindle/contracts';
import type { ServiceJobView } from '@spindle/read-models';
import { SecretRefDto, SecretRefsProperty } from '../secrets/secret-ref.dto';
import { IsOmittable } from '@spindle/platform';

const NAME_RULE = 'a letter or digit, then letters, digits, `_`, `.` or `-`, at most 128';

export class TaskGroupDto {
  @ApiProperty({ example: 'front', description: `Task group name: ${NAME_RULE}` })
  @IsString()
  @Matches(SERVICE_JOB_NAME_PATTERN, { message: `$property must be ${NAME_RULE}` })
  name!: string;

  @ApiProperty({ example: 'serve', description: 'The function each instance runs (any runtime)' })
  @IsString()
  @MaxLength(256)
  function!: string;

  @ApiPropertyOptional({ example: { port: 8000 }, description: 'Arguments every instance is called with' })
  @IsOmittable()
  @IsObject()
  args?: Record<string, unknown>;

  @SecretRefsProperty(
    "Secrets every instance's process gets as environment variables, added to its function's",
  )
  secrets?: SecretRefDto[];

  @ApiProperty({
    minimum: 0,
    maximum: SERVICE_COUNT_MAX,
    example: 1,
    description: 'Instances when the job starts',
  })
  @IsInt()
  @Min(0)
  @Max(SERVICE_COUNT_MAX)
  countInit!: number;

  @ApiProperty({
    minimum: 0,
    maximum: SERVICE_COUNT_MAX,
    example: 5,
    description: 'The most instances it may scale to',
  })
  @IsInt()
  @Min(0)
  @Max(SERVICE_COUNT_MAX)
  countMax!: number;
}

export class CreateServiceJobDto {
  @ApiProperty({ example: 'web', description: `Service job name (Genvid's job id): ${NAME_RULE}` })
  @IsString()
  @Matches(SERVICE_JOB_NAME_PATTERN, { message: `$property must be ${NAME_RULE}` })
  name!: string;

  @ApiProperty({ type: [TaskGroupDto], minItems: 1, maxItems: TASK_GROUPS_MAX })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(TASK_GROUPS_MAX)
  @ValidateNested({ each: true })
  @Type(() => TaskGroupDto)
  taskGroups!: TaskGroupDto[];
}

export class ScaleTaskGroupDto {
  @ApiProperty({
    minimum: 0,
    maximum: SERVICE_COUNT_MAX,
    example: 3,
    description: "Instances wanted, at most the group's countMax",
  })
  @IsInt()
  @Min(0)
  @Max(SERVICE_COUNT_MAX)
  count!: number;
}

export class TaskGroupSummaryDto {
  @ApiProperty() queued!: number;
  @ApiProperty() starting!: number;
  @ApiProperty() running!: number;
  @ApiProperty({ description: 'Instances that exited 0 or were stopped' }) complete!: number;
  @ApiProperty({ description: 'Instances that failed, timed out or were killed' }) failed!: number;
  @ApiProperty({ description: 'Instances whose worker host stopped responding' }) lost!: number;
}

export class AllocationDto {
  @ApiProperty({
    description: 'Allocation id: also the id of the job that runs it (GET /api/v1/jobs/{id}, its logs)',
  })
  id!: string;
  @ApiProperty({ enum: ALLOCATION_STATES }) state!: AllocationState;
  @ApiProperty() placedAt!: string;
  @ApiProperty({ nullable: true, type: String }) runningSince!: string | null;
}

export class TaskGroupStatusDto {
  @ApiProperty({ example: 'front' }) name!: string;
  @ApiProperty({ example: 'serve' }) function!: string;
  @ApiProperty({ example: 'default' }) context!: string;
  @ApiProperty({ type: Object }) args!: Record<string, unknown>;
  @ApiProperty({
    type: [SecretRefDto],
    description: "The secrets its instances get (its function's and its own), by reference: never values",
  })
  secrets!: SecretRefDto[];
  @ApiProperty({ description: 'Instances wanted now' }) count!: number;
  @ApiProperty() countInit!: number;
  @ApiProperty() countMax!: number;
  @ApiProperty({ type: TaskGroupSummaryDto }) summary!: TaskGroupSummaryDto;
  @ApiProperty({ type: [AllocationDto], description: 'Live instances' }) allocations!: AllocationDto[];
}

export class ServiceJobDto {
  @ApiProperty({ example: 'web' }) name!: string;
  @ApiProperty({
    enum: SERVICE_JOB_STATUSES,
    description: 'dead: not started; pending: started, none running yet; running',
  })
  status!: ServiceJobStatusName;
  @ApiProperty({ type: [TaskGroupStatusDto] }) taskGroups!: TaskGroupStatusDto[];
  @ApiProperty({ example: '2026-12-03T10:00:00.000Z' }) createdAt!: string;
  @ApiProperty({ example: '2026-12-03T10:00:05.000Z' }) updatedAt!: string;

  static from(row: ServiceJobView): ServiceJobDto {
    const { job } = row;
    return {
      name: row.name,
      status: row.status,
      taskGroups: job.taskGroups.map((g) => ({
        name: g.name,
        function: g.function,
        context: g.context,
        args: g.args,
        secrets: g.secrets ?? [],
        count: g.count,
        countInit: g.countInit,
        countMax: g.countMax,
        summary: summaryOf(job, g),
        allocations: job.allocations
          .filter((a) => a.taskGroup === g.name)
          .map(({ id, state, placedAt, runningSince }) => ({ id, state, placedAt, runningSince })),
      })),
      createdAt: new Date(row.createdAt).toISOString(),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  }
}

export class ServiceJobPageDto {
  @ApiProperty({ type: [ServiceJobDto] }) items!: ServiceJobDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
