import type { MigrationInterface, QueryRunner } from 'typeorm';

// Every line of every job, numbered densely from 1, with its byte offset in the job's log text.
export class LogLines1763900000500 implements MigrationInterface {
  name = 'LogLines1763900000500';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table log_collector.log_lines (
      job_id text not null,
      line_no integer not null,
      byte_offset bigint not null,
      at timestamptz not null,
      stream text not null,
      text text not null,
      primary key (job_id, line_no)
    )`);
    await runner.query(`create index log_lines_bytes on log_collector.log_lines (job_id, byte_offset)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('drop table log_collector.log_lines');
  }
}
