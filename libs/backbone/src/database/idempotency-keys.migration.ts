import type { MigrationInterface, QueryRunner } from 'typeorm';
import { backboneTablesMigration } from './backbone-tables.migration';
import { consumerInboxAppliedAtMigration } from './consumer-inbox-applied-at.migration';
import { publishedOffsetsMigration } from './published-offsets.migration';
import { consumerCheckpointsTopicIdMigration } from './consumer-checkpoints-topic-id.migration';
import { appendConflictMigration } from './append-conflict.migration';

// Idempotency keys of commands an owner has handled, with the answer it gave: a retried request
// with the same key gets the same answer instead of a second effect.
export function idempotencyKeysMigration(schema: string): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = `IdempotencyKeys${schema.replace(/[^A-Za-z0-9]/g, '')}1763800001000`;

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`create table "${schema}".idempotency_keys (
        key text primary key,
        fingerprint text not null,
        result jsonb not null,
        created_at timestamptz not null default now()
      )`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`drop table "${schema}".idempotency_keys`);
    }
  };
}

// Every service schema gets the same backbone tables, in this order.
export function backboneMigrations(schema: string): (new () => MigrationInterface)[] {
  return [
    backboneTablesMigration(schema),
    idempotencyKeysMigration(schema),
    consumerInboxAppliedAtMigration(schema),
    consumerCheckpointsTopicIdMigration(schema),
    publishedOffsetsMigration(schema),
    appendConflictMigration(schema),
  ];
}
