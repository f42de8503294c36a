import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// The dispatcher counts each waiting context's placed jobs on every pass: without an index of
// its own that count read the whole table, every queued job of a backlog included.
export class SchedulerDispatchJobsPlacedIndex1796600000100 implements MigrationInterface {
  name = 'SchedulerDispatchJobsPlacedIndex1796600000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `create index dispatch_jobs_placed on ${s}.dispatch_jobs (context) where state <> 'queued'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop index ${s}.dispatch_jobs_placed`);
  }
}
