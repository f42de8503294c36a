import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { handleCommand } from '@spindle/backbone';
import type { OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import { secretStreamId } from '@spindle/contracts';
import type {
  CommandResult,
  EventEnvelope,
  ResolveSecretsBody,
  SecretActor,
  SecretPage,
  SecretSummary,
  SecretWrittenV1,
} from '@spindle/contracts';
import { MasterKeys } from '../crypto/master-keys';
import type { SealedSecret } from '../crypto/envelope-crypto';
import { SECRETS_CONNECTION, SECRETS_EVENT_STORE, SECRETS_RELAY, SECRETS_SCHEMA } from '../secrets.tokens';
import { secretCommands } from './domain/secret.decider';
import type { SecretCommand } from './domain/secret.decider';

const s = `"${SECRETS_SCHEMA}"`;

export type Refused = Extract<CommandResult, { ok: false }>;

interface SummaryRow {
  id: string;
  version: number;
  keys: string[];
  created_at: Date;
  updated_at: Date;
}

// What the secrets service does with a secret. Every change and every read of a value is decided
// by the secret's decider and recorded as an event; the sealed values live in secret_versions,
// written (or destroyed) in the same transaction. Plaintext exists only in memory here, on its
// way in (sealed before it is stored) or out (opened once the read is recorded).
@Injectable()
export class SecretVault {
  constructor(
    @InjectDataSource(SECRETS_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SECRETS_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(SECRETS_RELAY) private readonly relay: OutboxRelay,
    private readonly keys: MasterKeys,
  ) {}

  async write(
    id: string,
    values: Readonly<Record<string, string>>,
    actor: SecretActor,
    correlationId: string,
  ): Promise<(SecretSummary & { created: boolean }) | Refused> {
    const keyring = this.keys.keyring;
    const result = await this.execute(
      { kind: 'write', id, keys: Object.keys(values), masterKeyId: keyring.current.id, actor },
      correlationId,
      async (manager, [event]) => {
        const { version } = (event as EventEnvelope<'SecretWritten', SecretWrittenV1>).data;
        const sealed = keyring.seal(values, contextOf(id, version));
        await manager.query(
          `insert into ${s}.secret_versions (secret_id, version, master_key_id, wrapped_key, ciphertext, created_at)
           values ($1, $2, $3, $4, $5, $6)`,
          [id, version, sealed.masterKeyId, sealed.wrappedKey, sealed.ciphertext, event!.occurredAt],
        );
        await manager.query(
          `insert into ${s}.secrets (id, version, keys, created_at, updated_at) values ($1, $2, $3, $4, $4)
           on conflict (id) do update set version = excluded.version, keys = excluded.keys, updated_at = excluded.updated_at`,
          [id, version, JSON.stringify((event!.data as SecretWrittenV1).keys), event!.occurredAt],
        );
      },
    );
    if (!result.ok) return result;
    const summary = (await this.summary(id))!;
    return { ...summary, created: summary.version === 1 || summary.createdAt === summary.updatedAt };
  }

  // The latest version's values (only `keys`, when given), once the read is recorded. A value that
  // cannot be opened (its master key is gone) records no read.
  async read(
    id: string,
    keys: readonly string[] | undefined,
    actor: SecretActor,
    correlationId: string,
  ): Promise<{ summary: SecretSummary; values: Record<string, string> } | Refused> {
    const keyring = this.keys.keyring;
    let values: Record<string, string> = {};
    const result = await this.execute(
      { kind: 'read', id, keys, actor },
      correlationId,
      async (manager, [event]) => {
        const { version, keys: handedOut } = event!.data as { version: number; keys: string[] };
        const [row] = await manager.query<
          { master_key_id: string; wrapped_key: Buffer; ciphertext: Buffer }[]
        >(
          `select master_key_id, wrapped_key, ciphertext from ${s}.secret_versions where secret_id = $1 and version = $2`,
          [id, version],
        );
        if (!row) throw new Error(`secret ${id} version ${version} has no stored values`);
        const all = keyring.open(sealedOf(row), contextOf(id, version));
        values = Object.fromEntries(handedOut.map((k) => [k, all[k]!]));
      },
    );
    if (!result.ok) return result;
    return { summary: (await this.summary(id))!, values };
  }

  async remove(id: string, actor: SecretActor, correlationId: string): Promise<{ ok: true } | Refused> {
    const result = await this.execute({ kind: 'delete', id, actor }, correlationId, async (manager) => {
      // The values of every version are destroyed with it; the history keeps only names.
      await manager.query(`delete from ${s}.secret_versions where secret_id = $1`, [id]);
      await manager.query(`delete from ${s}.secrets where id = $1`, [id]);
    });
    return result.ok ? { ok: true } : result;
  }

  // A job's secrets, for its start: each reference read (and recorded) on the job's behalf, its
  // keys becoming variables of the same name; a later reference's key replaces an earlier one's.
  async resolve(
    body: ResolveSecretsBody,
    correlationId: string,
  ): Promise<{ env: Record<string, string> } | Refused> {
    const actor: SecretActor = {
      principal: 'worker-agent',
      source: `worker:${body.hostId}`,
      jobId: body.jobId,
    };
    const env: Record<string, string> = {};
    for (const ref of body.refs) {
      const read = await this.read(ref.id, ref.keys, actor, correlationId);
      if ('ok' in read) return read;
      Object.assign(env, read.values);
    }
    return { env };
  }

  async list(limit: number, after: string | null): Promise<SecretPage> {
    const rows = await this.dataSource.query<SummaryRow[]>(
      `select id, version, keys, created_at, updated_at from ${s}.secrets
       where ($1::text is null or id > $1) order by id limit $2`,
      [after, limit + 1],
    );
    const page = rows.slice(0, limit);
    return { items: page.map(summaryOf), nextCursor: rows.length > limit ? page.at(-1)!.id : null };
  }

  async summary(id: string): Promise<SecretSummary | undefined> {
    const [row] = await this.dataSource.query<SummaryRow[]>(
      `select id, version, keys, created_at, updated_at from ${s}.secrets where id = $1`,
      [id],
    );
    return row && summaryOf(row);
  }

  execute(
    command: SecretCommand,
    correlationId: string,
    afterAppend?: (manager: EntityManager, appended: readonly EventEnvelope[]) => Promise<void>,
  ): Promise<CommandResult> {
    return handleCommand({
      dataSource: this.dataSource,
      store: this.store,
      decider: secretCommands.decider,
      streamId: secretStreamId(command.id),
      topic: secretCommands.topic,
      command,
      metadata: { correlationId, causationId: null },
      now: new Date(),
      afterAppend,
      onCommitted: () => this.relay.wake(),
    });
  }
}

// Binds a version's ciphertext and data key to the secret and version they belong to.
export function contextOf(id: string, version: number): string {
  return `${id}@${version}`;
}

export function sealedOf(row: {
  master_key_id: string;
  wrapped_key: Buffer;
  ciphertext: Buffer;
}): SealedSecret {
  return { masterKeyId: row.master_key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext };
}

function summaryOf(row: SummaryRow): SecretSummary {
  return {
    id: row.id,
    version: row.version,
    keys: row.keys,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
