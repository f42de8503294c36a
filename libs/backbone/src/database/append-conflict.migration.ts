import type { MigrationInterface, QueryRunner } from 'typeorm';

// What an append statement calls when a stream is not where it expected
// (PostgresEventStore.appendMany): it fails the whole statement, so nothing of the append stays,
// not even the claims of its other fresh streams, also without a transaction around it. SQLSTATE
// 40001, a lost race. Its own read of the stream's position takes a fresh snapshot (a volatile
// function's statements do), so it sees the rival's committed move the append lost to.
export const APPEND_CONFLICT_SQLSTATE = '40001';

export function appendConflictMigration(schema: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = `AppendConflict${schema.replace(/[^A-Za-z0-9]/g, '')}1797000000000`;

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`create or replace function "${schema}".append_conflict(stream text) returns boolean
        language plpgsql volatile as $fn$
        declare
          found integer;
        begin
          select position into found from "${schema}".streams where stream_id = stream;
          raise exception 'stream % is not where the append expected it', stream
            using errcode = '${APPEND_CONFLICT_SQLSTATE}',
                  detail = json_build_object('streamId', stream, 'position', coalesce(found, 0))::text;
        end
        $fn$`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`drop function if exists "${schema}".append_conflict(text)`);
    }
  };
}
