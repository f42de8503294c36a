import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';

// POST /v1/jobs/updatecounts: a task group's count moved by a delta.
export class UpdateCountsDto {
  @ApiProperty({ example: 'web', description: 'The job ID (its name)' })
  @IsString()
  @MaxLength(128)
  jobID!: string;

  @ApiProperty({ example: 'web', description: 'The task group id' })
  @IsString()
  @MaxLength(128)
  taskGroup!: string;

  @ApiProperty({
    example: 1,
    description: 'The count delta, clamped to [0, countMax]. 0 will stop the task group.',
  })
  @IsInt()
  @Min(-1000)
  @Max(1000)
  count!: number;
}
