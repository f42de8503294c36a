import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { apiScopeSchema } from './api-scopes';

// An API key's stream (`api-key-<id>`), on topic spindle.scheduler.api-key.v1. The key itself is
// never recorded: only its verifier, an HMAC-SHA256 of it under the installation's key secret
// (SPINDLE_API_KEY_SECRET), which is kept out of events and cannot be turned back into the key.
export const apiKeyEventDataSchemas = {
  'ApiKeyCreated@1': z.object({
    keyId: z.string(),
    name: z.string(),
    scopes: z.array(apiScopeSchema),
    expiresAt: z.string().nullable(),
    verifier: z.string(),
  }),
  'ApiKeyRevoked@1': z.object({ keyId: z.string() }),
} as const;

type Schemas = typeof apiKeyEventDataSchemas;
export type ApiKeyCreatedV1 = EventData<Schemas['ApiKeyCreated@1']>;
export type ApiKeyRevokedV1 = EventData<Schemas['ApiKeyRevoked@1']>;
export type ApiKeyEvent = EventsOf<Schemas>;
export const isApiKeyEvent = isEventOf(apiKeyEventDataSchemas);
