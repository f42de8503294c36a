import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const p = `"${PROJECTOR_SCHEMA}"`;

// The service jobs read model, and its change index: one counter the projection raises in the
// transaction that changes any row (Genvid's `waitIndex`, Nomad's X-Nomad-Index), so a reader sees
// the rows and the index of one moment.
export class ServiceJobsV11764900000200 implements MigrationInterface {
  name = 'ServiceJobsV11764900000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table ${p}.service_jobs_v1 (
      stream_id text primary key,
      stream_position integer not null,
      name text not null,
      status text not null,
      job jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      deleted_at timestamptz
    )`);
    await runner.query(`create unique index service_jobs_v1_name on ${p}.service_jobs_v1 (name)`);
    await runner.query(`create table ${p}.service_jobs_v1_index (
      id boolean primary key default true check (id),
      value bigint not null
    )`);
    // Starts at 1: Nomad's index is never 0, which a client would take as "do not block".
    await runner.query(`insert into ${p}.service_jobs_v1_index (id, value) values (true, 1)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table ${p}.service_jobs_v1_index`);
    await runner.query(`drop table ${p}.service_jobs_v1`);
  }
}
