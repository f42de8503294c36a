import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class FunctionsV11763800000300 implements MigrationInterface {
  name = 'FunctionsV11763800000300';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".functions_v1 (
      stream_id text primary key,
      stream_position integer not null,
      name text not null,
      artifact text not null,
      entrypoint text not null,
      runtime text not null,
      default_context text not null,
      tags jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz
    )`);
    await runner.query(`create unique index functions_v1_name on "${PROJECTOR_SCHEMA}".functions_v1 (name)`);
    await runner.query(
      `create index functions_v1_artifact on "${PROJECTOR_SCHEMA}".functions_v1 (artifact) where deleted_at is null`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".functions_v1`);
  }
}
