import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class MapReduceJobsV11796300000110 implements MigrationInterface {
  name = 'MapReduceJobsV11796300000110';

  async up(runner: QueryRunner): Promise<void> {
    const table = `"${PROJECTOR_SCHEMA}".mapreduce_jobs_v1`;
    await runner.query(`create table ${table} (
      stream_id text primary key,
      stream_position integer not null,
      name text not null,
      protocol text not null,
      input_path text not null,
      output_path text not null,
      n_reducers integer not null,
      split_size bigint not null,
      task_timeout_ms integer not null,
      mapper jsonb not null,
      reducer jsonb,
      state text not null,
      error text,
      run integer not null,
      host_id text,
      tasks jsonb not null,
      submitted_at timestamptz not null,
      finished_at timestamptz,
      deleted_at timestamptz
    )`);
    // Not unique: ids are chosen by the gateway, and a projection must never fail on a row.
    await runner.query(`create index mapreduce_jobs_v1_name on ${table} (name)`);
    await runner.query(`create index mapreduce_jobs_v1_state on ${table} (state, name)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".mapreduce_jobs_v1`);
  }
}
