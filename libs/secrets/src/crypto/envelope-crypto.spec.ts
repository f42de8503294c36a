import { randomBytes } from 'node:crypto';
import { Keyring, SecretCryptoError, masterKeyFrom } from './envelope-crypto';

const newKey = () => masterKeyFrom(randomBytes(32).toString('base64'));

describe('envelope encryption', () => {
  const values = { DB_PASSWORD: 'hunter2', TOKEN: 'ü-ñ-✓' };

  it('round-trips a map through seal and open', () => {
    const ring = new Keyring(newKey());
    const sealed = ring.seal(values, 'db@1');
    expect(sealed.masterKeyId).toBe(ring.current.id);
    expect(ring.open(sealed, 'db@1')).toEqual(values);
  });

  it('leaves no plaintext in what it stores, and a fresh data key each time', () => {
    const ring = new Keyring(newKey());
    const a = ring.seal(values, 'db@1');
    const b = ring.seal(values, 'db@1');
    expect(a.ciphertext.toString('latin1')).not.toContain('hunter2');
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('refuses to open under the wrong master key', () => {
    const sealed = new Keyring(newKey()).seal(values, 'db@1');
    const other = newKey();
    // Same id, other key: the tag check fails rather than giving garbage.
    const impostor = new Keyring({ id: sealed.masterKeyId, key: other.key });
    expect(() => impostor.open(sealed, 'db@1')).toThrow(SecretCryptoError);
    expect(() => new Keyring(other).open(sealed, 'db@1')).toThrow(/not configured/);
  });

  it.each([
    ['the ciphertext', 'ciphertext', 40],
    ['the ciphertext iv', 'ciphertext', 0],
    ['the ciphertext tag', 'ciphertext', 14],
    ['the wrapped key', 'wrappedKey', 30],
  ] as const)('refuses a tampered byte in %s', (_what, part, at) => {
    const ring = new Keyring(newKey());
    const sealed = ring.seal(values, 'db@1');
    const bytes = Buffer.from(sealed[part]);
    bytes[at] = bytes[at]! ^ 0x01;
    expect(() => ring.open({ ...sealed, [part]: bytes }, 'db@1')).toThrow(SecretCryptoError);
  });

  it('refuses a ciphertext moved to another secret or version', () => {
    const ring = new Keyring(newKey());
    const sealed = ring.seal(values, 'db@1');
    expect(() => ring.open(sealed, 'db@2')).toThrow(SecretCryptoError);
    expect(() => ring.open(sealed, 'other@1')).toThrow(SecretCryptoError);
  });

  it('re-wraps under a new master key: the old one is no longer needed, the ciphertext unchanged', () => {
    const old = newKey();
    const sealed = new Keyring(old).seal(values, 'db@1');
    const next = newKey();
    const rewrapped = new Keyring(next, [old]).rewrap(sealed, 'db@1');
    expect(rewrapped.masterKeyId).toBe(next.id);
    expect(rewrapped.ciphertext.equals(sealed.ciphertext)).toBe(true);
    expect(new Keyring(next).open(rewrapped, 'db@1')).toEqual(values);
    expect(() => new Keyring(old).open(rewrapped, 'db@1')).toThrow(SecretCryptoError);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => masterKeyFrom(randomBytes(16).toString('base64'))).toThrow(SecretCryptoError);
  });
});
