import { Inject, Injectable } from '@nestjs/common';
import { API_SCOPES } from '@spindle/contracts';
import { SPINDLE_CONFIG, sameSecret } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ApiKeysQuery, ReadBarrier } from '@spindle/read-models';
import { keyIdOf, verifierOf } from './api-key-material';
import { ENV_ADMIN_KEY_ID } from './principal';
import type { Principal } from './principal';

export type Authentication =
  { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

// Who a presented key is: SPINDLE_ADMIN_KEY (every scope), or a key of the API keys read model
// whose verifier matches, neither revoked nor expired. A key unknown to the read model is looked
// up again once the read model includes every write acknowledged so far, so a key works as soon
// as its creation was answered.
@Injectable()
export class ApiKeyAuthenticator {
  constructor(
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    private readonly keys: ApiKeysQuery,
    private readonly barrier: ReadBarrier,
  ) {}

  async authenticate(key: string, now: Date): Promise<Authentication> {
    const { adminKey, apiKeySecret } = this.config.auth;
    if (adminKey !== undefined && sameSecret(key, adminKey))
      return {
        ok: true,
        principal: { keyId: ENV_ADMIN_KEY_ID, name: 'SPINDLE_ADMIN_KEY', scopes: API_SCOPES },
      };
    const keyId = keyIdOf(key);
    if (keyId === undefined || apiKeySecret === undefined)
      return { ok: false, reason: 'the API key is not one this server issued' };
    let row = await this.keys.findById(keyId);
    if (!row && (await this.barrier.await(['apiKeys']))) row = await this.keys.findById(keyId);
    if (!row || !sameSecret(verifierOf(apiKeySecret, key), row.verifier))
      return { ok: false, reason: 'the API key is not one this server issued' };
    if (row.revokedAt) return { ok: false, reason: `API key ${row.keyId} (${row.name}) is revoked` };
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime())
      return {
        ok: false,
        reason: `API key ${row.keyId} (${row.name}) expired at ${row.expiresAt.toISOString()}`,
      };
    return { ok: true, principal: { keyId: row.keyId, name: row.name, scopes: row.scopes } };
  }
}
