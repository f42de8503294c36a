import { isApiKeyEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { ApiKeyView, READ_MODEL_SOURCES } from '@spindle/read-models';

export function evolveApiKeyView(row: ApiKeyView | null, event: SpindleEvent): ApiKeyView | null {
  if (!isApiKeyEvent(event)) throw new Error(`unexpected ${event.type} for the API keys read model`);
  switch (event.type) {
    case 'ApiKeyCreated':
      return Object.assign(new ApiKeyView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        keyId: event.data.keyId,
        name: event.data.name,
        scopes: event.data.scopes,
        verifier: event.data.verifier,
        expiresAt: event.data.expiresAt === null ? null : new Date(event.data.expiresAt),
        createdAt: new Date(event.occurredAt),
        revokedAt: null,
      });
    case 'ApiKeyRevoked':
      if (!row) return null;
      return Object.assign(new ApiKeyView(), row, {
        streamPosition: event.streamPosition,
        revokedAt: new Date(event.occurredAt),
      });
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected API key event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const apiKeysProjection = streamProjection<ApiKeyView>({
  name: READ_MODEL_SOURCES.apiKeys.consumer,
  topics: [READ_MODEL_SOURCES.apiKeys.topic],
  entity: ApiKeyView,
  evolve: evolveApiKeyView,
});
