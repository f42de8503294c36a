import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';

// The MapReduce jobs not yet ended and where each runs, written with their events
// (applyMapReduceJobState): what the MapReduce supervisor decides on.
export class SchedulerMapReduceJobs1796300000100 implements MigrationInterface {
  name = 'SchedulerMapReduceJobs1796300000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${SCHEDULER_SCHEMA}".mapreduce_jobs (
      id text primary key,
      state text not null,
      run integer not null,
      host_id text,
      incarnation text,
      definition jsonb not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${SCHEDULER_SCHEMA}".mapreduce_jobs`);
  }
}
