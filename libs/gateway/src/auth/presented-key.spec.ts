import { loadConfig } from '@spindle/platform';
import { policyOf, presentedKey } from './api-key.guard';
import { keyIdOf, newApiKey, verifierOf } from './api-key-material';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('reading a presented key', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc', 'abc'],
    [basic('user:abc'), 'abc'],
    [basic('abc:'), 'abc'],
    [basic('abc'), 'abc'],
  ])('takes the key from %s', (header, key) => {
    expect(presentedKey(header)).toBe(key);
  });

  it.each([undefined, '', 'Bearer', 'Digest abc', basic(':')])('finds no key in %s', (header) => {
    expect(presentedKey(header)).toBeUndefined();
  });
});

describe('API key material', () => {
  it('names the key by its id, and verifies only under the secret it was made with', () => {
    const made = newApiKey('s'.repeat(32));
    expect(keyIdOf(made.key)).toBe(made.keyId);
    expect(verifierOf('s'.repeat(32), made.key)).toBe(made.verifier);
    expect(verifierOf('t'.repeat(32), made.key)).not.toBe(made.verifier);
    const randomPart = made.key.slice(`spindle_${made.keyId}_`.length); // base64url: may hold '_'
    expect(randomPart).toHaveLength(43);
    expect(made.verifier).not.toContain(randomPart);
  });

  it('reads the id of a key whose random part holds underscores and dashes', () => {
    const key = `spindle_0123456789abcdef_${'_-'.repeat(21)}a`;
    expect(keyIdOf(key)).toBe('0123456789abcdef');
  });

  it('does not take a foreign token for a Spindle key', () => {
    expect(keyIdOf('ghp_0123456789abcdef')).toBeUndefined();
  });
});

describe('listener policies', () => {
  it('keeps keys everywhere by default, and opens only what is asked', () => {
    const config = loadConfig({ SPINDLE_DIALECT_AUTH: 'open', MIST_AUTH: 'keys' });
    expect(policyOf(config, 'api')).toBe('keys');
    expect(policyOf(config, 'mist')).toBe('keys');
    expect(policyOf(config, 'ilum')).toBe('open');
    expect(policyOf(loadConfig({}), 'genvid')).toBe('keys');
  });

  it('refuses a policy that is neither open nor keys, naming the variable', () => {
    expect(() => loadConfig({ ILUM_AUTH: 'none' })).toThrow(/ILUM_AUTH/);
  });
});
