import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// What the dispatcher decides on, kept beside the streams and written in the same transaction as
// the events that change it: live jobs only (finished ones leave), live workers, contexts' current
// settings, and the worker hosts that heartbeat.
export class SchedulerDispatchTables1763900000100 implements MigrationInterface {
  name = 'SchedulerDispatchTables1763900000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table ${s}.dispatch_contexts (
      name text primary key,
      settings jsonb,
      deleted boolean not null default false
    )`);
    // Contexts created before this table existed.
    await runner.query(`insert into ${s}.dispatch_contexts (name, settings, deleted)
      select distinct on (stream_id) data->>'name', data->'settings', type = 'ContextDeleted'
      from ${s}.events where stream_id like 'context-%'
      order by stream_id, stream_position desc`);
    await runner.query(`create table ${s}.dispatch_jobs (
      id text primary key,
      seq bigserial not null,
      context text not null,
      state text not null,
      worker_id text,
      host_id text,
      submitted_at timestamptz not null,
      start_deadline timestamptz,
      perform_timeout_ms integer,
      started_at timestamptz
    )`);
    await runner.query(
      `create index dispatch_jobs_queue on ${s}.dispatch_jobs (context, seq) where state = 'queued'`,
    );
    await runner.query(`create index dispatch_jobs_worker on ${s}.dispatch_jobs (worker_id)`);
    await runner.query(`create table ${s}.dispatch_workers (
      id text primary key,
      context text not null,
      mode text not null,
      host_id text not null,
      incarnation text not null,
      state text not null,
      max_jobs integer not null,
      requested_at timestamptz not null,
      idle_since timestamptz
    )`);
    await runner.query(`create index dispatch_workers_context on ${s}.dispatch_workers (context)`);
    await runner.query(`create table ${s}.hosts (
      id text primary key,
      incarnation text not null,
      hostname text not null,
      agent_pid integer not null,
      slots integer not null,
      stopping boolean not null,
      started_at timestamptz not null,
      last_seen timestamptz not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['hosts', 'dispatch_workers', 'dispatch_jobs', 'dispatch_contexts'])
      await runner.query(`drop table ${s}.${table}`);
  }
}
