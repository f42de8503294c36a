import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

// Envelope encryption with AES-256-GCM (Node's crypto): every secret version gets a fresh random
// data key that encrypts its values; the data key is stored wrapped (encrypted) by a master key.
// Rotating the master key re-wraps data keys and leaves the ciphertext of the values as it is.

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface MasterKey {
  readonly id: string; // an HMAC of the key: names it in events and rows, reveals nothing of it
  readonly key: Buffer;
}

export interface SealedSecret {
  readonly masterKeyId: string;
  readonly wrappedKey: Buffer; // iv | tag | encrypted data key
  readonly ciphertext: Buffer; // iv | tag | encrypted JSON of the values
}

export class SecretCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretCryptoError';
  }
}

export function masterKeyFrom(base64: string): MasterKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new SecretCryptoError('a master key is 32 bytes, base64-encoded');
  return { id: masterKeyIdOf(key), key };
}

export function masterKeyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('spindle master key id v1').digest('hex').slice(0, 16);
}

// The master keys a secrets service holds: `current` wraps every new data key; `previous` ones
// are accepted for reading while a rotation moves their data keys to `current`.
export class Keyring {
  private readonly byId: ReadonlyMap<string, MasterKey>;

  constructor(
    readonly current: MasterKey,
    previous: readonly MasterKey[] = [],
  ) {
    this.byId = new Map([...previous, current].map((k) => [k.id, k]));
  }

  get ids(): readonly string[] {
    return [...this.byId.keys()];
  }

  has(masterKeyId: string): boolean {
    return this.byId.has(masterKeyId);
  }

  // `context` binds the ciphertext to where it belongs (the secret's id and version): a row
  // copied elsewhere does not decrypt.
  seal(values: Readonly<Record<string, string>>, context: string): SealedSecret {
    const dataKey = randomBytes(KEY_BYTES);
    try {
      return {
        masterKeyId: this.current.id,
        wrappedKey: gcmSeal(this.current.key, dataKey, `spindle data key:${context}`),
        ciphertext: gcmSeal(
          dataKey,
          Buffer.from(JSON.stringify(values), 'utf8'),
          `spindle values:${context}`,
        ),
      };
    } finally {
      dataKey.fill(0);
    }
  }

  open(sealed: SealedSecret, context: string): Record<string, string> {
    const dataKey = this.unwrap(sealed, context);
    try {
      return JSON.parse(
        gcmOpen(dataKey, sealed.ciphertext, `spindle values:${context}`).toString('utf8'),
      ) as Record<string, string>;
    } finally {
      dataKey.fill(0);
    }
  }

  // The same data key and ciphertext, the data key wrapped by the current master key.
  rewrap(sealed: SealedSecret, context: string): SealedSecret {
    if (sealed.masterKeyId === this.current.id) return sealed;
    const dataKey = this.unwrap(sealed, context);
    try {
      return {
        masterKeyId: this.current.id,
        wrappedKey: gcmSeal(this.current.key, dataKey, `spindle data key:${context}`),
        ciphertext: sealed.ciphertext,
      };
    } finally {
      dataKey.fill(0);
    }
  }

  private unwrap(sealed: SealedSecret, context: string): Buffer {
    const master = this.byId.get(sealed.masterKeyId);
    if (!master) throw new SecretCryptoError(`master key ${sealed.masterKeyId} is not configured`);
    return gcmOpen(master.key, sealed.wrappedKey, `spindle data key:${context}`);
  }
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function gcmOpen(key: Buffer, box: Buffer, aad: string): Buffer {
  if (box.length < IV_BYTES + TAG_BYTES) throw new SecretCryptoError('ciphertext is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(box.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(box.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    // GCM's tag check: a wrong key, or a changed byte anywhere in iv, tag, ciphertext or context.
    throw new SecretCryptoError('ciphertext does not authenticate under this key');
  }
}
