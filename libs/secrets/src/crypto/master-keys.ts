import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { SPINDLE_CONFIG, StartupError } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { SECRETS_CONNECTION, SECRETS_SCHEMA } from '../secrets.tokens';
import { Keyring, masterKeyFrom } from './envelope-crypto';

export function masterKeyFileOf(dataDir: string): string {
  return join(resolve(dataDir), 'secrets', 'master.key');
}

// The keyring of this secrets process, settled at start: SPINDLE_MASTER_KEY (and, during a
// rotation, SPINDLE_MASTER_KEY_PREVIOUS), or else the key file in the data directory, generated
// on the first start. A start that lacks a key some stored secret needs refuses, in one line,
// rather than run with secrets nobody can read.
@Injectable()
export class MasterKeys implements OnModuleInit {
  private readonly logger = new Logger('secrets');
  private ring: Keyring | undefined;

  constructor(
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    @InjectDataSource(SECRETS_CONNECTION) private readonly dataSource: DataSource,
  ) {}

  get keyring(): Keyring {
    if (!this.ring) throw new Error('the secrets keyring is not loaded yet');
    return this.ring;
  }

  async onModuleInit(): Promise<void> {
    const inUse: { master_key_id: string; versions: string }[] = await this.dataSource.query(
      `select master_key_id, count(*) as versions from "${SECRETS_SCHEMA}".secret_versions group by 1`,
    );
    const { masterKey, previousMasterKeys } = this.config.secrets;
    const current = masterKeyFrom(masterKey ?? (await this.keyFile(inUse.length > 0)));
    const ring = new Keyring(current, previousMasterKeys.map(masterKeyFrom));
    const missing = inUse.filter((r) => !ring.has(r.master_key_id));
    if (missing.length > 0) {
      const count = missing.reduce((n, r) => n + Number(r.versions), 0);
      throw new StartupError(
        `${count} secret version(s) are encrypted under master key(s) ${missing.map((r) => r.master_key_id).join(', ')}, which this start does not have (it has ${ring.ids.join(', ')})`,
        'set SPINDLE_MASTER_KEY (or, during a rotation, SPINDLE_MASTER_KEY_PREVIOUS) to include that key',
      );
    }
    this.ring = ring;
    this.logger.log(
      `master key ${current.id}${ring.ids.length > 1 ? ` (also accepting ${ring.ids.filter((id) => id !== current.id).join(', ')} until rotation ends)` : ''}`,
    );
  }

  private async keyFile(secretsExist: boolean): Promise<string> {
    const file = masterKeyFileOf(this.config.dataDir);
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (secretsExist) {
      throw new StartupError(
        `the secrets master key file ${file} is missing, and the stored secrets cannot be read without it`,
        'restore that file from your backup (or set SPINDLE_MASTER_KEY to the key); Spindle does not start without it, rather than leave those secrets unreadable',
      );
    }
    await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString('base64');
    try {
      await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process of this data directory wrote it first: use theirs.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
      throw e;
    }
    this.logger.warn(
      `generated the secrets master key in ${file} (mode 0600). Back it up: without it no secret can be read. In production set SPINDLE_MASTER_KEY instead.`,
    );
    return key;
  }
}
