import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// When each host is taken for gone unless heard again, as the scheduler's hosts table has it
// (recordHeartbeats in the backbone): the status counts the hosts it would place on. Added in
// place: hosts come from heartbeats, which no rebuild replays; a row from before counts as heard
// until its last beat, and the next beat sets it.
export class HostsV1HeardUntil1796900000200 implements MigrationInterface {
  name = 'HostsV1HeardUntil1796900000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.hosts_v1 add column heard_until timestamptz`);
    await runner.query(`update ${s}.hosts_v1 set heard_until = last_seen`);
    await runner.query(`alter table ${s}.hosts_v1 alter column heard_until set not null`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.hosts_v1 drop column heard_until`);
  }
}
