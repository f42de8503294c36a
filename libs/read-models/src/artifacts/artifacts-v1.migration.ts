import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class ArtifactsV11763800000200 implements MigrationInterface {
  name = 'ArtifactsV11763800000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".artifacts_v1 (
      stream_id text primary key,
      stream_position integer not null,
      name text not null,
      kind text not null,
      size bigint not null,
      sha256 text not null,
      sha1 text not null,
      content_type text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz
    )`);
    await runner.query(`create unique index artifacts_v1_name on "${PROJECTOR_SCHEMA}".artifacts_v1 (name)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".artifacts_v1`);
  }
}
