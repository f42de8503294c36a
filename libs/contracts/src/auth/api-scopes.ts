import { z } from 'zod';

// What an API key may do. `read`: every GET; `submit`: jobs (submit, cancel); `write`: definitions
// (artifacts, functions, contexts, groups, clusters, workers, settings); `secrets`: secret values
// and their changes; `admin`: keys themselves. Scopes do not imply each other: an admin key is
// created with all of them.
export const API_SCOPES = ['read', 'submit', 'write', 'secrets', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];
export const apiScopeSchema = z.enum(API_SCOPES);

// A key reads `spindle_<id>_<secret>`: the id names it in logs and audit records (never the
// secret), and finds its verifier in one lookup.
export const API_KEY_ID_PATTERN = /^[a-f0-9]{16}$/;
export const API_KEY_PATTERN = /^spindle_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;
export const API_KEY_NAME_MAX = 100;

export function apiKeyStreamId(keyId: string): string {
  return `api-key-${keyId}`;
}
