import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from './read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// The secrets a function names and a job got (FunctionDefinition's and JobSubmitted's additive
// `secrets`): references `{id, keys?}`, never values. In place: rows recorded before have none.
export class SecretRefs1764700000100 implements MigrationInterface {
  name = 'SecretRefs1764700000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.functions_v1 add column secrets jsonb not null default '[]'`);
    await runner.query(`alter table ${s}.jobs_v1 add column secrets jsonb not null default '[]'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.jobs_v1 drop column secrets`);
    await runner.query(`alter table ${s}.functions_v1 drop column secrets`);
  }
}
