import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { MasterKeys } from '../crypto/master-keys';
import { SecretVault, contextOf, sealedOf } from '../secrets/secret-vault';
import { SECRETS_CONNECTION, SECRETS_SCHEMA } from '../secrets.tokens';

const s = `"${SECRETS_SCHEMA}"`;
const BATCH = 200;

export interface RotationStatus {
  readonly currentKeyId: string;
  readonly acceptedKeyIds: readonly string[];
  readonly pending: Readonly<Record<string, number>>; // data keys still wrapped by an older master key
  readonly running: boolean;
}

// Another rotator moved the rows first: this event is not recorded.
class AlreadyRewrapped extends Error {}

// Master key rotation without downtime: started with SPINDLE_MASTER_KEY (the new key) and
// SPINDLE_MASTER_KEY_PREVIOUS (the old ones, still accepted for reading), the secrets service
// re-wraps every data key still under an old key, one secret per transaction with a
// SecretRewrapped event, while reads and writes go on. Once none is left, the old keys are
// needed by nothing and can be dropped from the configuration.
@Injectable()
export class KeyRotation implements OnApplicationBootstrap {
  private readonly logger = new Logger('secrets');
  private running: Promise<number> | undefined;

  constructor(
    @InjectDataSource(SECRETS_CONNECTION) private readonly dataSource: DataSource,
    private readonly keys: MasterKeys,
    private readonly vault: SecretVault,
  ) {}

  onApplicationBootstrap(): void {
    void this.status().then((status) => {
      if (Object.keys(status.pending).length > 0)
        this.run().catch((e: unknown) => this.logger.error(`master key rotation stopped: ${messageOf(e)}`));
    });
  }

  async status(): Promise<RotationStatus> {
    const keyring = this.keys.keyring;
    const rows: { master_key_id: string; n: string }[] = await this.dataSource.query(
      `select master_key_id, count(*) as n from ${s}.secret_versions where master_key_id <> $1 group by 1`,
      [keyring.current.id],
    );
    return {
      currentKeyId: keyring.current.id,
      acceptedKeyIds: keyring.ids,
      pending: Object.fromEntries(rows.map((r) => [r.master_key_id, Number(r.n)])),
      running: this.running !== undefined,
    };
  }

  // Re-wraps until no data key is left under an old master key; the number it re-wrapped.
  run(): Promise<number> {
    this.running ??= this.rewrapAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async rewrapAll(): Promise<number> {
    const keyring = this.keys.keyring;
    const correlationId = randomUUID();
    let total = 0;
    for (;;) {
      const rows: {
        secret_id: string;
        version: number;
        master_key_id: string;
        wrapped_key: Buffer;
        ciphertext: Buffer;
      }[] = await this.dataSource.query(
        `select secret_id, version, master_key_id, wrapped_key, ciphertext from ${s}.secret_versions
         where master_key_id <> $1 order by secret_id, version limit $2`,
        [keyring.current.id, BATCH],
      );
      if (rows.length === 0) break;
      let moved = 0;
      for (const id of [...new Set(rows.map((r) => r.secret_id))]) {
        const own = rows.filter((r) => r.secret_id === id);
        const rewrapped = own.map((r) => ({
          row: r,
          sealed: keyring.rewrap(sealedOf(r), contextOf(id, r.version)),
        }));
        try {
          const result = await this.vault.execute(
            {
              kind: 'rewrap',
              id,
              versions: own.map((r) => ({ version: r.version, fromKeyId: r.master_key_id })),
              toKeyId: keyring.current.id,
            },
            correlationId,
            async (manager) => {
              for (const { row, sealed } of rewrapped) {
                const [, updated] = await manager.query<[unknown, number]>(
                  `update ${s}.secret_versions set master_key_id = $1, wrapped_key = $2
                   where secret_id = $3 and version = $4 and master_key_id = $5`,
                  [sealed.masterKeyId, sealed.wrappedKey, id, row.version, row.master_key_id],
                );
                if (updated !== 1) throw new AlreadyRewrapped();
              }
            },
          );
          if (result.ok) moved += own.length;
        } catch (e) {
          if (!(e instanceof AlreadyRewrapped)) throw e;
        }
      }
      total += moved;
      // Nothing moved in a whole pass: another rotator is at it, or these rows cannot be moved.
      if (moved === 0) break;
    }
    const left = await this.status();
    if (Object.keys(left.pending).length === 0)
      this.logger.log(
        `master key rotation finished: ${total} data key(s) re-wrapped under ${keyring.current.id}; the earlier master keys are no longer needed (drop SPINDLE_MASTER_KEY_PREVIOUS)`,
      );
    return total;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
