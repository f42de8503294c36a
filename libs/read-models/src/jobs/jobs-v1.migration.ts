import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

const s = `"${PROJECTOR_SCHEMA}"`;

// Jobs, workers, hosts and the change feed. Job lists are keyset pages by id (UUIDv7: newest
// first), each filter with an index that serves it in that order.
export class JobsV11763900000400 implements MigrationInterface {
  name = 'JobsV11763900000400';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table ${s}.jobs_v1 (
      stream_id text primary key,
      stream_position integer not null,
      id uuid not null,
      function text not null,
      context text not null,
      state text not null,
      args jsonb not null,
      result jsonb,
      error text,
      worker_id text,
      host_id text,
      pid integer,
      external_id text,
      artifact text not null,
      entrypoint text not null,
      runtime text not null,
      start_timeout_ms integer,
      perform_timeout_ms integer,
      log_lines integer,
      log_bytes bigint,
      created_at timestamptz not null,
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz not null
    )`);
    await runner.query(`create unique index jobs_v1_id on ${s}.jobs_v1 (id desc)`);
    for (const column of ['state', 'function', 'context', 'worker_id', 'external_id'])
      await runner.query(`create index jobs_v1_${column} on ${s}.jobs_v1 (${column}, id desc)`);

    await runner.query(`create table ${s}.workers_v1 (
      stream_id text primary key,
      stream_position integer not null,
      id uuid not null,
      context text not null,
      mode text not null,
      host_id text not null,
      pid integer,
      state text not null,
      max_jobs integer not null,
      stop_reason text,
      created_at timestamptz not null,
      started_at timestamptz,
      stopped_at timestamptz,
      updated_at timestamptz not null
    )`);
    await runner.query(`create unique index workers_v1_id on ${s}.workers_v1 (id desc)`);
    await runner.query(`create index workers_v1_state on ${s}.workers_v1 (state, id desc)`);

    await runner.query(`create table ${s}.hosts_v1 (
      id text primary key,
      incarnation text not null,
      hostname text not null,
      agent_pid integer not null,
      slots integer not null,
      stopping boolean not null,
      started_at timestamptz not null,
      last_seen timestamptz not null
    )`);

    await runner.query(`create table ${s}.feed_v1 (
      seq bigserial primary key,
      event_id uuid not null unique,
      kind text not null,
      type text not null,
      subject_id text not null,
      state text not null,
      context text not null,
      function text,
      worker_id text,
      data jsonb not null,
      occurred_at timestamptz not null,
      tx xid8 not null default pg_current_xact_id()
    )`);
    await runner.query(`create index feed_v1_subject on ${s}.feed_v1 (subject_id, seq)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['feed_v1', 'hosts_v1', 'workers_v1', 'jobs_v1'])
      await runner.query(`drop table ${s}.${table}`);
  }
}
