import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class ApiKeysV11764900000100 implements MigrationInterface {
  name = 'ApiKeysV11764900000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".api_keys_v1 (
      stream_id text primary key,
      stream_position integer not null,
      key_id text not null unique,
      name text not null,
      scopes jsonb not null,
      verifier text not null,
      expires_at timestamptz,
      created_at timestamptz not null,
      revoked_at timestamptz
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".api_keys_v1`);
  }
}
