import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// Where each job's submit came in (JobSubmitted's additive `source`). Added in place rather than
// in a jobs_v2 rebuild: the column is nullable and older rows rightly read null (not recorded).
export class JobsV1Source1763900000600 implements MigrationInterface {
  name = 'JobsV1Source1763900000600';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 add column source text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 drop column source`);
  }
}
