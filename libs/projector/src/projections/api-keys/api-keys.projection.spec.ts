import { foldIntoRows } from '@spindle/backbone';
import { newEventId, parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import type { ApiKeyView } from '@spindle/read-models';
import { apiKeysProjection } from './api-keys.projection';

function event(type: string, position: number, data: object): SpindleEvent {
  return parseEvent({
    id: newEventId(),
    type,
    version: 1,
    streamId: 'api-key-0123456789abcdef',
    streamPosition: position,
    occurredAt: `2026-12-01T10:00:0${position}.000Z`,
    correlationId: 'c',
    causationId: null,
    data,
  });
}

const created = event('ApiKeyCreated', 1, {
  keyId: '0123456789abcdef',
  name: 'ci',
  scopes: ['read'],
  expiresAt: null,
  verifier: 'b'.repeat(64),
});
const revoked = event('ApiKeyRevoked', 2, { keyId: '0123456789abcdef' });

describe('API keys read model', () => {
  const fold = (rows: Map<string, ApiKeyView | null>, events: SpindleEvent[]) =>
    foldIntoRows(apiKeysProjection.definition, rows, events);

  it('keeps a created key with its scopes and verifier, then marks it revoked', () => {
    const rows = new Map<string, ApiKeyView | null>();
    fold(rows, [created]);
    expect(rows.get(created.streamId)).toMatchObject({
      keyId: '0123456789abcdef',
      scopes: ['read'],
      revokedAt: null,
    });
    fold(rows, [revoked]);
    expect(rows.get(created.streamId)).toMatchObject({
      streamPosition: 2,
      verifier: 'b'.repeat(64),
      revokedAt: new Date('2026-12-01T10:00:02.000Z'),
    });
  });

  it('does not bring a revoked key back when its creation is delivered again', () => {
    const rows = new Map<string, ApiKeyView | null>();
    fold(rows, [created, revoked]);
    expect(fold(rows, [created]).size).toBe(0);
    expect(rows.get(created.streamId)?.revokedAt).not.toBeNull();
  });
});
