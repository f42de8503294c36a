import { createHmac, randomBytes } from 'node:crypto';
import { API_KEY_PATTERN } from '@spindle/contracts';

export interface NewApiKey {
  readonly key: string; // shown once, to whoever created it
  readonly keyId: string;
  readonly verifier: string;
}

// 32 random bytes: a key cannot be guessed, so a fast keyed hash is enough to store it (a
// password hash's slowness protects low-entropy secrets, which keys are not).
export function newApiKey(secret: string): NewApiKey {
  const keyId = randomBytes(8).toString('hex');
  const key = `spindle_${keyId}_${randomBytes(32).toString('base64url')}`;
  return { key, keyId, verifier: verifierOf(secret, key) };
}

export function verifierOf(secret: string, key: string): string {
  return createHmac('sha256', secret).update(key).digest('hex');
}

// The id a presented key names, or undefined when it is not shaped like a Spindle key.
export function keyIdOf(key: string): string | undefined {
  return API_KEY_PATTERN.exec(key)?.[1];
}
