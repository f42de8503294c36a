import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class SettingsV11764800000100 implements MigrationInterface {
  name = 'SettingsV11764800000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".settings_v1 (
      stream_id text primary key,
      stream_position integer not null,
      settings jsonb not null,
      updated_at timestamptz not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".settings_v1`);
  }
}
