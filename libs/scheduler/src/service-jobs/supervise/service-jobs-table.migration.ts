import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';

// Each service job folded from its stream, written with its events (applyServiceJobState): what
// the supervisor decides on.
export class SchedulerServiceJobs1764900000100 implements MigrationInterface {
  name = 'SchedulerServiceJobs1764900000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${SCHEDULER_SCHEMA}".service_jobs (
      name text primary key,
      status jsonb not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${SCHEDULER_SCHEMA}".service_jobs`);
  }
}
