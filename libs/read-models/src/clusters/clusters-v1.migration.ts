import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class ClustersV11764800000100 implements MigrationInterface {
  name = 'ClustersV11764800000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".clusters_v1 (
      stream_id text primary key,
      stream_position integer not null,
      id text not null,
      name text not null,
      type text not null,
      definition jsonb not null,
      secret_id text,
      secret_fields jsonb not null,
      created_at timestamptz not null,
      deleted_at timestamptz
    )`);
    // Not unique: ids are checked by the gateway, and a projection must never fail on a row.
    await runner.query(`create index clusters_v1_id on "${PROJECTOR_SCHEMA}".clusters_v1 (id)`);
    await runner.query(`create unique index clusters_v1_name on "${PROJECTOR_SCHEMA}".clusters_v1 (name)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".clusters_v1`);
  }
}
