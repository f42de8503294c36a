import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// A function's retry policy (FunctionDefinition's additive `retries`). In place rather than in a
// functions_v2 rebuild: every function recorded before has none, which is 0.
export class FunctionsV1Retries1763900000700 implements MigrationInterface {
  name = 'FunctionsV1Retries1763900000700';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.functions_v1 add column retries integer not null default 0`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.functions_v1 drop column retries`);
  }
}
