import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SpindleConfig } from './spindle-config';

// The secrets one installation's processes share, settled once at boot: the internal token that
// service-to-service calls carry, and the secret API key verifiers are made with. Each is its
// environment variable when set (several hosts: set it on every one), else a file in the data
// directory created on first start (mode 0600), so processes sharing that directory agree.
export function withInstallationSecrets(config: SpindleConfig): SpindleConfig {
  return {
    ...config,
    internalToken: config.internalToken ?? installationSecretFile(config.dataDir, 'internal-token'),
    auth: {
      ...config.auth,
      apiKeySecret: config.auth.apiKeySecret ?? installationSecretFile(config.dataDir, 'api-key-secret'),
    },
  };
}

// <dataDir>/auth/<name>: 32 random bytes (base64url, so a URL can hold it), created on first use.
export function installationSecretFile(dataDir: string, name: string): string {
  const dir = join(resolve(dataDir), 'auth');
  const file = join(dir, name);
  const existing = read(file);
  if (existing) return existing;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Written whole under another name, then linked into place: a process starting beside this one
  // sees no file or a complete one, and the first link wins.
  const draft = `${file}.${process.pid}.draft`;
  writeFileSync(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(draft);
  }
  return read(file)!;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
