import type { MigrationInterface, QueryRunner } from 'typeorm';

// The backbone's own tables inside a service's schema: event store, outbox, consumer checkpoints
// and inbox.
// A class per schema because TypeORM identifies migrations by name.
export function backboneTablesMigration(schema: string): new () => MigrationInterface {
  const q = (sql: string) => sql.replaceAll('$schema', `"${schema}"`);
  const migration = class implements MigrationInterface {
    name = `BackboneTables${schema.replace(/[^A-Za-z0-9]/g, '')}1763800000000`;

    async up(runner: QueryRunner): Promise<void> {
      // streams.position is the optimistic-concurrency guard: appends update it conditionally.
      await runner.query(
        q(`create table $schema.streams (
          stream_id text primary key,
          position integer not null check (position >= 0)
        )`),
      );
      await runner.query(
        q(`create table $schema.events (
          global_position bigserial primary key,
          event_id uuid not null unique,
          stream_id text not null,
          stream_position integer not null,
          type text not null,
          version integer not null,
          data jsonb not null,
          correlation_id text not null,
          causation_id text,
          occurred_at timestamptz not null,
          unique (stream_id, stream_position)
        )`),
      );
      // tx_id lets the relay tell a committed row from one whose transaction is still open.
      await runner.query(
        q(`create table $schema.outbox (
          position bigserial primary key,
          tx_id xid8 not null default pg_current_xact_id(),
          topic text not null,
          message_key text not null,
          payload jsonb not null,
          headers jsonb not null default '{}'::jsonb,
          created_at timestamptz not null default now()
        )`),
      );
      await runner.query(q(`create index outbox_key_position on $schema.outbox (message_key, position)`));
      await runner.query(
        q(`create table $schema.consumer_checkpoints (
          consumer text not null,
          topic text not null,
          partition integer not null,
          "offset" bigint not null,
          updated_at timestamptz not null default now(),
          primary key (consumer, topic, partition)
        )`),
      );
      // Event ids each consumer has applied: a re-published event (new offset, same id) is skipped.
      await runner.query(
        q(`create table $schema.consumer_inbox (
          consumer text not null,
          event_id uuid not null,
          applied_at timestamptz not null default now(),
          primary key (consumer, event_id)
        )`),
      );
    }

    async down(runner: QueryRunner): Promise<void> {
      for (const table of ['consumer_inbox', 'consumer_checkpoints', 'outbox', 'events', 'streams']) {
        await runner.query(q(`drop table if exists $schema.${table}`));
      }
    }
  };
  Object.defineProperty(migration, 'name', { value: `BackboneTables_${schema}` });
  return migration;
}
