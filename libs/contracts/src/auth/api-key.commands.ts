import { z } from 'zod';
import { commandMetadataShape } from '../command-metadata';
import { API_KEY_ID_PATTERN, API_KEY_NAME_MAX, API_SCOPES, apiScopeSchema } from './api-scopes';

export const createApiKeyCommandSchema = z.object({
  ...commandMetadataShape,
  keyId: z.string().regex(API_KEY_ID_PATTERN),
  name: z.string().min(1).max(API_KEY_NAME_MAX),
  scopes: z.array(apiScopeSchema).min(1).max(API_SCOPES.length),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  verifier: z.string().regex(/^[a-f0-9]{64}$/),
});
export type CreateApiKeyCommand = z.infer<typeof createApiKeyCommandSchema>;

export const revokeApiKeyCommandSchema = z.object({
  ...commandMetadataShape,
  keyId: z.string().regex(API_KEY_ID_PATTERN),
});
export type RevokeApiKeyCommand = z.infer<typeof revokeApiKeyCommandSchema>;
