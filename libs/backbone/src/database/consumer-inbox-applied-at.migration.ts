import type { MigrationInterface, QueryRunner } from 'typeorm';

// The inbox by consumer and time applied: what a consumer applied since a moment (a projection
// rebuild checks those streams under its lock), and, later, pruning old entries by age.
export function consumerInboxAppliedAtMigration(schema: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = `ConsumerInboxAppliedAt${schema.replace(/[^A-Za-z0-9]/g, '')}1764000000000`;

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(
        `create index if not exists consumer_inbox_applied_at on "${schema}".consumer_inbox (consumer, applied_at)`,
      );
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`drop index if exists "${schema}".consumer_inbox_applied_at`);
    }
  };
}
