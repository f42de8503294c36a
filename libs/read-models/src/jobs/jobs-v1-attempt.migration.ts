import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// Which attempt a job is on (JobRequeued moves it on when its host died and its function allows
// a retry). In place rather than in a jobs_v2 rebuild: every job recorded before ran once.
export class JobsV1Attempt1763900000800 implements MigrationInterface {
  name = 'JobsV1Attempt1763900000800';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 add column attempt integer not null default 1`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 drop column attempt`);
  }
}
