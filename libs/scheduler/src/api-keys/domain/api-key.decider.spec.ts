import { decideApiKey } from './api-key.decider';
import type { ApiKeyCommand } from './api-key.decider';

const meta = { correlationId: 'c-1', issuedAt: '2026-12-01T10:00:00.000Z' };
const create = (expiresAt: string | null): ApiKeyCommand => ({
  kind: 'create',
  ...meta,
  keyId: '0123456789abcdef',
  name: 'ci',
  scopes: ['read', 'submit', 'read'],
  expiresAt,
  verifier: 'a'.repeat(64),
});
const revoke: ApiKeyCommand = { kind: 'revoke', ...meta, keyId: '0123456789abcdef' };

describe('the API key decider', () => {
  it('records a new key with its scopes (once each), expiry and verifier', () => {
    expect(decideApiKey(create('2027-01-01T00:00:00.000Z'), { status: 'absent' })).toEqual([
      {
        type: 'ApiKeyCreated',
        version: 1,
        data: {
          keyId: '0123456789abcdef',
          name: 'ci',
          scopes: ['read', 'submit'],
          expiresAt: '2027-01-01T00:00:00.000Z',
          verifier: 'a'.repeat(64),
        },
      },
    ]);
  });

  it('refuses an expiry that has already passed when the command was issued', () => {
    expect(decideApiKey(create('2026-12-01T09:59:59.000Z'), { status: 'absent' })).toMatchObject({
      code: 'invalid',
      field: 'expiresAt',
    });
  });

  it('refuses to create a key id twice', () => {
    expect(decideApiKey(create(null), { status: 'active' })).toMatchObject({ code: 'conflict' });
  });

  it('revokes an active key, and a second revoke records nothing', () => {
    expect(decideApiKey(revoke, { status: 'active' })).toEqual([
      { type: 'ApiKeyRevoked', version: 1, data: { keyId: '0123456789abcdef' } },
    ]);
    expect(decideApiKey(revoke, { status: 'revoked' })).toEqual([]);
  });

  it('cannot revoke a key that never existed', () => {
    expect(decideApiKey(revoke, { status: 'absent' })).toMatchObject({ code: 'not_found', field: 'keyId' });
  });
});
