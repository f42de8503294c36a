import { Inject, Injectable } from '@nestjs/common';
import { CommandPatterns } from '@spindle/contracts';
import type { ApiScope } from '@spindle/contracts';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ApiKeysQuery } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import type { Issued } from '../commands/command-sender';
import { awaitVisible, readBack } from '../read-back';
import { newApiKey } from './api-key-material';
import { ApiKeyDto } from './api-key.dto';
import type { CreatedApiKeyDto } from './api-key.dto';

// Creates and revokes keys through their owner (the scheduler), and answers once the read model
// has the change, so the new key works (and a revoked one stops) from the answer on.
@Injectable()
export class ApiKeys {
  constructor(
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    private readonly commands: CommandSender,
    private readonly keys: ApiKeysQuery,
  ) {}

  async create(
    request: { name: string; scopes: ApiScope[]; expiresAt?: string },
    issued: Issued,
  ): Promise<CreatedApiKeyDto> {
    const secret = this.config.auth.apiKeySecret;
    if (secret === undefined) throw new Error('the API key secret is not settled (boot sets it)');
    const { key, keyId, verifier } = newApiKey(secret);
    const accepted = await this.commands.send(
      CommandPatterns.createApiKey,
      {
        keyId,
        name: request.name,
        scopes: request.scopes,
        expiresAt: request.expiresAt === undefined ? null : new Date(request.expiresAt).toISOString(),
        verifier,
      },
      issued,
    );
    // A retried create (same Idempotency-Key) is answered with the first key's record, whose key
    // was shown once already and is not shown again.
    const recordedId = accepted.streamId.replace(/^api-key-/, '');
    const row = await readBack(
      `key ${recordedId}`,
      this.keys.waitForPosition(recordedId, accepted.streamPosition, this.config.readYourWritesTimeoutMs),
      () => this.keys.findById(recordedId),
    );
    return { ...ApiKeyDto.from(row), key: recordedId === keyId ? key : '' };
  }

  async revoke(keyId: string, correlationId: string): Promise<void> {
    const accepted = await this.commands.send(CommandPatterns.revokeApiKey, { keyId }, { correlationId });
    await awaitVisible(
      `key ${keyId}`,
      this.keys.waitForPosition(keyId, accepted.streamPosition, this.config.readYourWritesTimeoutMs),
    );
  }
}
