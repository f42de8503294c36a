import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// When an ended job was deleted (JobDeleted): a tombstone the APIs that delete jobs (Ilum's) no
// longer list. In place: no job recorded before was deleted.
export class JobsV1Deleted1796400000100 implements MigrationInterface {
  name = 'JobsV1Deleted1796400000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 add column deleted_at timestamptz`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 drop column deleted_at`);
  }
}
