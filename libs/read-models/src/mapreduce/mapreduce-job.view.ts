import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { MapReduceJobState, MapReduceProtocol, MapReduceTaskState } from '@spindle/contracts';

export interface MapReduceTaskRow {
  readonly id: string; // <job>-m-<i> or <job>-r-<i>
  readonly kind: 'mapper' | 'reducer';
  readonly index: number;
  readonly state: MapReduceTaskState;
  readonly attempts: number;
  // The worker host its latest attempt was placed on (absent in rows projected before a job's
  // tasks were spread over hosts).
  readonly hostId?: string | null;
  // The map task's input range (object key, byte range); none for a reducer.
  readonly split: { readonly key: string; readonly start: number; readonly end: number } | null;
  readonly startedAt: string | null; // its latest attempt's
  readonly finishedAt: string | null;
  readonly error: string | null; // its latest failure
}

export interface MapReduceProgramRef {
  readonly artifact: string;
  readonly sha256: string;
}

// One row per MapReduce job stream, its tasks with it (they change together, in the job's
// stream). `name` is the job id, so the named read-model queries serve it. No credentials: the
// job names its secrets by id.
@Entity({ name: 'mapreduce_jobs_v1' })
export class MapReduceJobView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Column('text')
  name!: string;

  @Column('text')
  protocol!: MapReduceProtocol;

  @Column('text', { name: 'input_path' })
  inputPath!: string;

  @Column('text', { name: 'output_path' })
  outputPath!: string;

  @Column('integer', { name: 'n_reducers' })
  nReducers!: number;

  @Column('bigint', {
    name: 'split_size',
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  splitSize!: number;

  @Column('integer', { name: 'task_timeout_ms' })
  taskTimeoutMs!: number;

  @Column('jsonb')
  mapper!: MapReduceProgramRef;

  @Column('jsonb', { nullable: true })
  reducer!: MapReduceProgramRef | null;

  @Column('text')
  state!: MapReduceJobState;

  @Column('text', { nullable: true })
  error!: string | null;

  // Its current placement: which run of the job, on which host its coordinator is.
  @Column('integer')
  run!: number;

  @Column('text', { name: 'host_id', nullable: true })
  hostId!: string | null;

  @Column('jsonb')
  tasks!: MapReduceTaskRow[];

  @Column('timestamptz', { name: 'submitted_at' })
  submittedAt!: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null; // never set: jobs are kept
}
