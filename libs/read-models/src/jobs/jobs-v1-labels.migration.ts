import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// A job's labels (JobSubmitted's additive `name`, `cluster`, `tags`), in place rather than in a
// jobs_v2 rebuild: nullable, and older jobs rightly have none. Ilum's job pages filter by cluster
// (and a cluster in use is found by it) and by tags, newest first.
export class JobsV1Labels1764900000310 implements MigrationInterface {
  name = 'JobsV1Labels1764900000310';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `alter table ${s}.jobs_v1 add column name text, add column cluster text, add column tags jsonb`,
    );
    await runner.query(
      `create index jobs_v1_cluster on ${s}.jobs_v1 (cluster, id desc) where cluster is not null`,
    );
    await runner.query(`create index jobs_v1_tags on ${s}.jobs_v1 using gin (tags jsonb_path_ops)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop index ${s}.jobs_v1_tags`);
    await runner.query(`drop index ${s}.jobs_v1_cluster`);
    await runner.query(`alter table ${s}.jobs_v1 drop column tags, drop column cluster, drop column name`);
  }
}
