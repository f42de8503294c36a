import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';

// The MapReduce task attempts a coordinator asked for and not yet ended, and the host each was
// placed on (none yet: waiting for a free slot), written with their events
// (applyMapReduceJobState): what the MapReduce supervisor places tasks by. `avoid_host_id` is the
// host of the task's last failed attempt, which a retry is kept off when another host has a slot.
export class SchedulerMapReduceTasks1796700000100 implements MigrationInterface {
  name = 'SchedulerMapReduceTasks1796700000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${SCHEDULER_SCHEMA}".mapreduce_tasks (
      job_id text not null,
      task_id text not null,
      kind text not null,
      run integer not null,
      attempt integer not null,
      open boolean not null,
      host_id text,
      incarnation text,
      avoid_host_id text,
      primary key (job_id, task_id)
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${SCHEDULER_SCHEMA}".mapreduce_tasks`);
  }
}
