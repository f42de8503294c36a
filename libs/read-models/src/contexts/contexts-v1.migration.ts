import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class ContextsV11763800000100 implements MigrationInterface {
  name = 'ContextsV11763800000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".contexts_v1 (
      stream_id text primary key,
      stream_position integer not null,
      name text not null,
      settings jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz
    )`);
    await runner.query(`create unique index contexts_v1_name on "${PROJECTOR_SCHEMA}".contexts_v1 (name)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".contexts_v1`);
  }
}
