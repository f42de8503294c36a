import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

// Built for Ilum's group list at 100 000 groups: every filter and sort is a column with an index
// over the live rows, with name as the tie-break so a filtered, sorted page reads in index order.
export class GroupsV11764900000300 implements MigrationInterface {
  name = 'GroupsV11764900000300';

  async up(runner: QueryRunner): Promise<void> {
    const table = `"${PROJECTOR_SCHEMA}".groups_v1`;
    await runner.query(`create table ${table} (
      stream_id text primary key,
      stream_position integer not null,
      id text not null,
      name text not null,
      cluster_name text not null,
      description text not null,
      kind text not null,
      language text not null,
      tags jsonb not null,
      scale integer not null,
      state text not null,
      definition jsonb not null,
      created_at timestamptz not null,
      archived_at timestamptz,
      deleted_at timestamptz
    )`);
    // Not unique: ids are chosen by the gateway, and a projection must never fail on a row.
    await runner.query(`create index groups_v1_id on ${table} (id)`);
    await runner.query(`create unique index groups_v1_name on ${table} (name)`);
    const live = 'where deleted_at is null';
    await runner.query(`create index groups_v1_live_name on ${table} (name) ${live}`);
    await runner.query(`create index groups_v1_created on ${table} (created_at, name) ${live}`);
    await runner.query(`create index groups_v1_state on ${table} (state, name) ${live}`);
    await runner.query(`create index groups_v1_kind on ${table} (kind, name) ${live}`);
    await runner.query(`create index groups_v1_cluster on ${table} (cluster_name, name) ${live}`);
    await runner.query(`create index groups_v1_tags on ${table} using gin (tags jsonb_path_ops) ${live}`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table "${PROJECTOR_SCHEMA}".groups_v1`);
  }
}
