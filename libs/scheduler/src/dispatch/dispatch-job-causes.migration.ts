import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// Each queued job's submit (its correlation id and event id), so that its placement carries the
// request's correlation id on. Jobs queued before this have none: the dispatcher gives those one
// of its own, as it did for every job before.
export class SchedulerDispatchJobCauses1796400000100 implements MigrationInterface {
  name = 'SchedulerDispatchJobCauses1796400000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `alter table ${s}.dispatch_jobs add column correlation_id text, add column submitted_event_id text`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      `alter table ${s}.dispatch_jobs drop column correlation_id, drop column submitted_event_id`,
    );
  }
}
