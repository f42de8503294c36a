import { z } from 'zod';
import {
  CLUSTER_ID_PATTERN,
  CLUSTER_NAME_PATTERN,
  CLUSTER_SECRET_FIELDS,
  CLUSTER_TYPES,
  STORAGE_SECRET_FIELDS,
  STORAGE_TYPES,
} from '@spindle/contracts';
import type { ClusterDefinition, ClusterType } from '@spindle/contracts';
import type { FieldViolation } from '@spindle/platform';

// A cluster as Ilum's `POST /cluster` takes it (the native route takes the same body): the common
// fields, the type's own, and storages. Unknown fields are ignored, as Ilum's server does.
const text = (max = 100_000) => z.string().max(max);
const storageSchema = z
  .object({
    type: z.enum(STORAGE_TYPES),
    sparkBucket: text(1_000).optional(),
    dataBucket: text(1_000).optional(),
  })
  .catchall(z.union([text(), z.array(text()).max(100)]));
const common = {
  id: z
    .string()
    .regex(CLUSTER_ID_PATTERN, 'id must use letters, digits, "_" and "-" (at most 64)')
    .optional(),
  name: z
    .string({ error: 'name is required' })
    .regex(
      CLUSTER_NAME_PATTERN,
      'name must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 128)',
    ),
  description: text(10_000).optional(),
  storages: z
    .record(
      z.string().regex(CLUSTER_NAME_PATTERN, 'storage names use letters, digits, "_", "." and "-"'),
      storageSchema,
    )
    .refine((s) => Object.keys(s).length <= 20, 'at most 20 storages')
    .optional(),
  sparkStorage: text(128).optional(),
  defaultApplicationConfig: text().optional(),
};
const credentials = {
  caCert: text().optional(),
  clientCert: text().optional(),
  clientKey: text().optional(),
  clientKeyAlgorithm: text(100).optional(),
  clientKeyPassphrase: text(1_000).optional(),
  username: text(1_000).optional(),
  password: text(1_000).optional(),
};
const threads = z.coerce
  .number({ error: 'threads must be a whole number from 1 to 1024' })
  .int('threads must be a whole number from 1 to 1024')
  .min(1, 'threads must be a whole number from 1 to 1024')
  .max(1024, 'threads must be a whole number from 1 to 1024');

export const clusterRequestSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ ...common, type: z.literal('local'), threads }),
    z.object({
      ...common,
      type: z.literal('k8s'),
      url: z.url({ error: 'url must be a URL' }),
      ...credentials,
    }),
    z.object({
      ...common,
      type: z.literal('yarn'),
      url: z.url({ error: 'url must be a URL' }).optional(),
      ...credentials,
    }),
  ],
  { error: `type must be one of ${CLUSTER_TYPES.join(', ')}` },
);

export interface ClusterRequest {
  readonly id?: string;
  readonly name: string;
  readonly type: ClusterType;
  readonly definition: ClusterDefinition;
  // Credential values by the path they were given at; they go to the secrets service only.
  readonly secrets: ReadonlyMap<string, string>;
}

export type ParsedClusterRequest =
  | { readonly ok: true; readonly request: ClusterRequest }
  | { readonly ok: false; readonly errors: FieldViolation[] };

// Splits a body into the definition (recorded) and its credentials (kept in the secrets service).
export function parseClusterRequest(body: unknown): ParsedClusterRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      errors: [{ field: 'body', rule: 'isObject', message: 'the body must be a JSON object' }],
    };
  }
  const parsed = clusterRequestSchema.safeParse(body);
  if (!parsed.success) {
    // Never echo a value back: messages name fields and rules only.
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => ({
        field: i.path.join('.') || 'body',
        rule: i.code,
        message: i.message,
      })),
    };
  }
  const { id, name, type, description, storages, sparkStorage, defaultApplicationConfig, ...own } =
    parsed.data;
  const secrets = new Map<string, string>();
  const settings: Record<string, string | number> = {};
  for (const [field, value] of Object.entries(own) as [string, string | number | undefined][]) {
    if (value === undefined) continue;
    if ((CLUSTER_SECRET_FIELDS as readonly string[]).includes(field)) {
      if (value !== '') secrets.set(field, String(value));
    } else settings[field] = value;
  }
  const kept: Record<string, Record<string, string>> = {};
  for (const [storageName, storage] of Object.entries(storages ?? {})) {
    const fields: Record<string, string> = {};
    for (const [field, value] of Object.entries(storage)) {
      if (value === undefined) continue;
      const asText = Array.isArray(value) ? value.join(';') : value;
      if ((STORAGE_SECRET_FIELDS as readonly string[]).includes(field)) {
        if (asText !== '') secrets.set(`storages.${storageName}.${field}`, asText);
      } else fields[field] = asText;
    }
    kept[storageName] = fields;
  }
  return {
    ok: true,
    request: {
      ...(id === undefined ? {} : { id }),
      name,
      type,
      definition: {
        description: description ?? '',
        sparkStorage: sparkStorage ?? null,
        defaultApplicationConfig: defaultApplicationConfig ?? null,
        settings,
        storages: kept,
      },
      secrets,
    },
  };
}
