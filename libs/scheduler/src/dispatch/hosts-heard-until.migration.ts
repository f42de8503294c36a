import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// When each host is taken for gone unless heard again (recordHeartbeats in the backbone): a host
// with no work beats less often, so its silence is allowed longer, and every reader compares this
// rather than last_seen and the silence limit. A row from before counts as heard until its last
// beat: the next beat, within a second, sets it.
export class SchedulerHostsHeardUntil1796900000100 implements MigrationInterface {
  name = 'SchedulerHostsHeardUntil1796900000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.hosts add column heard_until timestamptz`);
    await runner.query(`update ${s}.hosts set heard_until = last_seen`);
    await runner.query(`alter table ${s}.hosts alter column heard_until set not null`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.hosts drop column heard_until`);
  }
}
