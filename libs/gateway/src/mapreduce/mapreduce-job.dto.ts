import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAPREDUCE_JOB_STATES, MAPREDUCE_PROTOCOLS, MAPREDUCE_TASK_STATES } from '@spindle/contracts';
import type { MapReduceJobState, MapReduceProtocol, MapReduceTaskState } from '@spindle/contracts';
import type { MapReduceJobView, MapReduceTaskRow } from '@spindle/read-models';

export const MAPREDUCE_REQUEST_SCHEMA = {
  type: 'object',
  required: ['inputPath', 'outputPath', 'mapper'],
  additionalProperties: false,
  properties: {
    protocol: { type: 'string', enum: [...MAPREDUCE_PROTOCOLS], default: 'streaming' },
    inputPath: {
      type: 'string',
      description: 'http(s)://endpoint/bucket/object, or a prefix ending in / (every object under it)',
    },
    outputPath: { type: 'string', description: 'http(s)://endpoint/bucket/prefix' },
    nReducers: { type: 'integer', minimum: 0, maximum: 1000, default: 1, description: '0: map-only' },
    mapper: { type: 'string', description: 'Artifact name of the mapper program' },
    reducer: { type: 'string', description: 'Artifact name of the reducer program (unless nReducers is 0)' },
    splitSize: { type: 'integer', minimum: 1, default: 67108864, description: 'Bytes per map task' },
    taskTimeoutMs: {
      type: 'integer',
      minimum: 1000,
      default: 600000,
      description: 'Without any sign of life',
    },
    inputSecret: { type: 'string', description: 'Secret id holding ACCESS_KEY_ID and SECRET_ACCESS_KEY' },
    outputSecret: { type: 'string', description: 'Secret id holding ACCESS_KEY_ID and SECRET_ACCESS_KEY' },
  },
  example: {
    inputPath: 'http://127.0.0.1:19000/corpus/books/',
    outputPath: 'http://127.0.0.1:19000/results/word-count',
    nReducers: 3,
    mapper: 'wc-mapper.py',
    reducer: 'wc-reducer.py',
    inputSecret: 'corpus-reader',
    outputSecret: 'results-writer',
  },
};

export class MapReduceProgramDto {
  @ApiProperty() artifact!: string;
  @ApiProperty({ description: 'sha256 of the program run, hex' }) sha256!: string;
}

export class MapReduceSplitDto {
  @ApiProperty() key!: string;
  @ApiProperty() start!: number;
  @ApiProperty() end!: number;
}

export class MapReduceTaskDto {
  @ApiProperty({ example: 'j-0193a5b2-7c1e-7f00-8000-1234567890ab-m-0' }) id!: string;
  @ApiProperty({ enum: ['mapper', 'reducer'] }) kind!: 'mapper' | 'reducer';
  @ApiProperty() index!: number;
  @ApiProperty({ enum: MAPREDUCE_TASK_STATES }) state!: MapReduceTaskState;
  @ApiProperty({ description: 'Attempts of the current run so far' }) attempts!: number;
  @ApiPropertyOptional({ type: MapReduceSplitDto, nullable: true }) split!: MapReduceSplitDto | null;
  @ApiPropertyOptional({
    nullable: true,
    description: 'The worker host its latest attempt was placed on (a job spreads its tasks over hosts)',
  })
  hostId!: string | null;
  @ApiPropertyOptional({ nullable: true }) startedAt!: string | null;
  @ApiPropertyOptional({ nullable: true }) finishedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'Its latest failure' }) error!: string | null;

  static from(task: MapReduceTaskRow): MapReduceTaskDto {
    return Object.assign(new MapReduceTaskDto(), { ...task, hostId: task.hostId ?? null });
  }
}

export class MapReduceJobDto {
  @ApiProperty({ example: 'j-0193a5b2-7c1e-7f00-8000-1234567890ab' }) id!: string;
  @ApiProperty({ enum: MAPREDUCE_PROTOCOLS }) protocol!: MapReduceProtocol;
  @ApiProperty() inputPath!: string;
  @ApiProperty() outputPath!: string;
  @ApiProperty() nReducers!: number;
  @ApiProperty() splitSize!: number;
  @ApiProperty() taskTimeoutMs!: number;
  @ApiProperty({ type: MapReduceProgramDto }) mapper!: MapReduceProgramDto;
  @ApiPropertyOptional({ type: MapReduceProgramDto, nullable: true }) reducer!: MapReduceProgramDto | null;
  @ApiProperty({ enum: MAPREDUCE_JOB_STATES }) state!: MapReduceJobState;
  @ApiPropertyOptional({ nullable: true }) error!: string | null;
  @ApiProperty({ description: 'Placements so far (a lost host places the job again)' }) run!: number;
  @ApiPropertyOptional({ nullable: true, description: "The worker host of the current run's coordinator" })
  hostId!: string | null;
  @ApiProperty({ description: 'Map tasks planned, then reducers (0 before the input is split)' })
  tasks!: number;
  @ApiProperty() submittedAt!: string;
  @ApiPropertyOptional({ nullable: true }) finishedAt!: string | null;

  static from(row: MapReduceJobView): MapReduceJobDto {
    return Object.assign(new MapReduceJobDto(), {
      id: row.name,
      protocol: row.protocol,
      inputPath: row.inputPath,
      outputPath: row.outputPath,
      nReducers: row.nReducers,
      splitSize: row.splitSize,
      taskTimeoutMs: row.taskTimeoutMs,
      mapper: row.mapper,
      reducer: row.reducer,
      state: row.state,
      error: row.error,
      run: row.run,
      hostId: row.hostId,
      tasks: row.tasks.length,
      submittedAt: row.submittedAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    });
  }
}

export class MapReduceJobPageDto {
  @ApiProperty({ type: [MapReduceJobDto] }) items!: MapReduceJobDto[];
  @ApiPropertyOptional({ nullable: true }) nextCursor!: string | null;
}
