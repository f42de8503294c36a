import type { MigrationInterface, QueryRunner } from 'typeorm';

// Where the outbox relay last left each partition it publishes to (the offset of its last message
// there, the topic's incarnation, when): the read barrier waits for a consumer's checkpoint to pass
// these, so a read includes every write published before it, and only this installation's.
export function publishedOffsetsMigration(schema: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = `PublishedOffsets${schema.replace(/[^A-Za-z0-9]/g, '')}1764200000000`;

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`create table if not exists "${schema}".published_offsets (
        topic text not null,
        partition integer not null,
        "offset" bigint not null,
        topic_id text,
        published_at timestamptz not null default now(),
        primary key (topic, partition)
      )`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`drop table if exists "${schema}".published_offsets`);
    }
  };
}
