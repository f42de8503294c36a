import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class ClusterConfigV11764910000130 implements MigrationInterface {
  name = 'ClusterConfigV11764910000130';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table "${PROJECTOR_SCHEMA}".cluster_config_v1 (
      stream_id text primary key,
      stream_position integer not null,
      document jsonb not null,
      updated_at timestamptz not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".cluster_config_v1`);
  }
}
