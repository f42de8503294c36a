import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SECRETS_SCHEMA } from '../secrets.tokens';

const s = `"${SECRETS_SCHEMA}"`;

// Beside the streams, written in the same transaction as their events: the sealed values of every
// version (the events never carry them), and the live secrets for the list.
export class SecretTables1764700000000 implements MigrationInterface {
  name = 'SecretTables1764700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`create table ${s}.secret_versions (
      secret_id text not null,
      version integer not null,
      master_key_id text not null,
      wrapped_key bytea not null,
      ciphertext bytea not null,
      created_at timestamptz not null,
      primary key (secret_id, version)
    )`);
    // What a rotation still has to re-wrap, and what a start checks it holds the keys for.
    await runner.query(`create index secret_versions_master_key on ${s}.secret_versions (master_key_id)`);
    await runner.query(`create table ${s}.secrets (
      id text primary key,
      version integer not null,
      keys jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop table ${s}.secrets`);
    await runner.query(`drop table ${s}.secret_versions`);
  }
}
