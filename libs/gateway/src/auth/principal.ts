import type { ApiScope } from '@spindle/contracts';

// Who a request acts as: an API key (by id and name, never the key), or nobody on an open listener.
export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly scopes: readonly ApiScope[];
}

export const ANONYMOUS: Principal = { keyId: 'anonymous', name: 'anonymous', scopes: [] };
export const ENV_ADMIN_KEY_ID = 'env-admin';
