import type { MigrationInterface, QueryRunner } from 'typeorm';

// The incarnation of the topic a checkpoint's offset belongs to (Kafka's topic id): a broker reset
// or a re-created topic numbers its messages from 0 again. Null in rows written before, or on the
// in-process bus; the consumer runner trusts an offset only under the topic id it was read from.
export function consumerCheckpointsTopicIdMigration(schema: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = `ConsumerCheckpointsTopicId${schema.replace(/[^A-Za-z0-9]/g, '')}1764100000000`;

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(
        `alter table "${schema}".consumer_checkpoints add column if not exists topic_id text`,
      );
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`alter table "${schema}".consumer_checkpoints drop column if exists topic_id`);
    }
  };
}
