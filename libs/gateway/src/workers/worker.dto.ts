import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, Matches, Validate } from 'class-validator';
import { CONTEXT_NAME_PATTERN, WORKER_MODES, WORKER_STATES } from '@spindle/contracts';
import type { WorkerMode, WorkerState } from '@spindle/contracts';
import { DURATION_FORMAT_HINT, IsOmittable } from '@spindle/platform';
import type { HostView, WorkerView } from '@spindle/read-models';
import { IsDurationConstraint } from '../contexts/context.dto';
import { DurationRangeConstraint } from '../duration-range';
import { PageQueryDto } from '../pagination.dto';

export const DEFAULT_STOP_TIMEOUT = '60s';

export class StopWorkerQueryDto {
  @ApiPropertyOptional({
    description:
      `How long the jobs running on the worker may go on before they are cancelled: ${DURATION_FORMAT_HINT}. ` +
      '"0s" cancels them at once, "Inf" waits however long they take',
    default: DEFAULT_STOP_TIMEOUT,
    example: '5m',
  })
  @IsOmittable()
  @Validate(IsDurationConstraint)
  @Validate(DurationRangeConstraint, [0])
  timeout?: string;
}

export class WorkerListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: WORKER_STATES, isArray: true, description: 'Only workers in these states' })
  @IsOmittable()
  @Transform(({ value }: { value: unknown }) =>
    value === undefined || Array.isArray(value) ? value : [value],
  )
  @IsArray()
  @IsIn(WORKER_STATES, { each: true, message: `each state must be one of: ${WORKER_STATES.join(', ')}` })
  state?: WorkerState[];

  @ApiPropertyOptional({ description: 'Only workers of this context' })
  @IsOmittable()
  @Matches(CONTEXT_NAME_PATTERN, { message: 'context must be a context name' })
  context?: string;
}

export class WorkerDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'default' }) context!: string;
  @ApiProperty({ enum: WORKER_MODES }) mode!: WorkerMode;
  @ApiProperty({ enum: WORKER_STATES }) state!: WorkerState;
  @ApiProperty({ description: 'The worker host it runs on' }) host!: string;
  @ApiProperty({ nullable: true, type: String, description: "The host machine's name" }) hostname!:
    string | null;
  @ApiProperty({ nullable: true, type: Number }) pid!: number | null;
  @ApiProperty({ description: 'Jobs it runs at once at most' }) maxJobs!: number;
  @ApiProperty({ description: 'Jobs placed on it and not finished' }) runningJobs!: number;
  @ApiProperty({ nullable: true, type: String }) stopReason!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) stoppedAt!: string | null;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: "Its host's last heartbeat",
  })
  lastHeartbeat!: string | null;

  static from(view: WorkerView, host: HostView | undefined, runningJobs: number): WorkerDto {
    return {
      id: view.id,
      context: view.context,
      mode: view.mode,
      state: view.state,
      host: view.hostId,
      hostname: host?.hostname ?? null,
      pid: view.pid,
      maxJobs: view.maxJobs,
      runningJobs,
      stopReason: view.stopReason,
      createdAt: view.createdAt.toISOString(),
      startedAt: view.startedAt?.toISOString() ?? null,
      stoppedAt: view.stoppedAt?.toISOString() ?? null,
      lastHeartbeat: host?.lastSeen.toISOString() ?? null,
    };
  }
}

export class WorkerPageDto {
  @ApiProperty({ type: [WorkerDto] }) items!: WorkerDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
