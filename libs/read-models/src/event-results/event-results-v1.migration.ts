import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PROJECTOR_SCHEMA } from '../read-models.tokens';

export class EventResultsV11796400000200 implements MigrationInterface {
  name = 'EventResultsV11796400000200';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${PROJECTOR_SCHEMA}"`;
    await runner.query(`create table ${s}.event_results_v1 (
      counter bigint primary key,
      dedup text unique,
      result jsonb not null,
      recorded_at timestamptz not null default now()
    )`);
    await runner.query(`create table ${s}.event_results_head_v1 (
      id smallint primary key check (id = 1),
      counter bigint not null
    )`);
    await runner.query(`insert into ${s}.event_results_head_v1 (id, counter) values (1, 0)`);
    // The log resets (as Genvid's) when no request came for a while: when it was last read, and the
    // counter up to which its last reset hides the results (reductions still read them). A row of
    // its own, so that readers never wait on an append's lock of the head.
    await runner.query(`create table ${s}.event_results_reads_v1 (
      id smallint primary key check (id = 1),
      last_read_at timestamptz,
      reset_counter bigint not null
    )`);
    await runner.query(`insert into ${s}.event_results_reads_v1 (id, reset_counter) values (1, 0)`);
    await runner.query(`create table ${s}.event_reductions_v1 (
      reduction_id text primary key,
      rules_position integer not null,
      after_counter bigint not null,
      window_from timestamptz not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${PROJECTOR_SCHEMA}"`;
    await runner.query(`drop table ${s}.event_reductions_v1`);
    await runner.query(`drop table ${s}.event_results_reads_v1`);
    await runner.query(`drop table ${s}.event_results_head_v1`);
    await runner.query(`drop table ${s}.event_results_v1`);
  }
}
