import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// A function's libraries (FunctionDefinition's additive `libraries`), searched by artifact when an
// artifact is deleted (jsonb_path_ops: `@>` only). In place rather than in a functions_v2 rebuild:
// every function recorded before has none.
export class FunctionsV1Libraries1796500000100 implements MigrationInterface {
  name = 'FunctionsV1Libraries1796500000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.functions_v1 add column libraries jsonb not null default '[]'`);
    await runner.query(
      `create index functions_v1_libraries on ${s}.functions_v1 using gin (libraries jsonb_path_ops)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`alter table ${s}.functions_v1 drop column libraries`);
  }
}
