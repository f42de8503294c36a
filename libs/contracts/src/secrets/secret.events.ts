import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';

// A secret's id, and its keys: each key becomes an environment variable of the jobs that use it.
export const SECRET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const SECRET_ID_RULE =
  'id must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 128)';

// What is wrong with a secret id, as a field violation (null: nothing), for every edge that takes one.
export function secretIdViolation(id: string): { field: 'id'; rule: 'isSecretId'; message: string } | null {
  return SECRET_ID_PATTERN.test(id) ? null : { field: 'id', rule: 'isSecretId', message: SECRET_ID_RULE };
}
export const SECRET_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// Limits of one secret: keys per map, UTF-8 bytes per value, and of all its keys and values.
export const SECRET_MAX_KEYS = 100;
export const SECRET_VALUE_MAX_BYTES = 64 * 1024;
export const SECRET_TOTAL_MAX_BYTES = 256 * 1024;

export function secretStreamId(id: string): string {
  return `secret-${id}`;
}

// Who touched a secret: `principal` is the API key the request acted as (its id; `anonymous` on an
// open listener, `clusters` for a cluster's own secret, `worker-agent` for a job's start) and `source`
// says where the request came from (the client's address, or `worker:<host>` for a job start);
// the request's correlation id is the event's.
export const secretActorSchema = z.object({
  principal: z.string().min(1).max(200),
  source: z.string().max(300),
  jobId: z.string().max(64).optional(), // a read for a job's start
});
export type SecretActor = z.infer<typeof secretActorSchema>;

const id = z.string().regex(SECRET_ID_PATTERN);
const keys = z.array(z.string().regex(SECRET_KEY_PATTERN)).max(SECRET_MAX_KEYS);
// Which master key wraps a version's data key: an HMAC of the key, never the key.
const masterKeyId = z.string().regex(/^[0-9a-f]{16}$/);

// Events carry ids, versions, key names and master key ids, never a value: the ciphertext stays in
// the secrets service's own table (secrets.secret_versions), written in the same transaction.
export const secretWrittenSchema = z.object({
  id,
  version: z.number().int().positive(),
  keys,
  masterKeyId,
  actor: secretActorSchema,
});
export const secretReadSchema = z.object({
  id,
  version: z.number().int().positive(),
  keys, // the keys whose values were handed out
  actor: secretActorSchema,
});
export const secretDeletedSchema = z.object({
  id,
  version: z.number().int().positive(), // the last version, whose values (and all older) are destroyed
  actor: secretActorSchema,
});
// Master key rotation: the data keys of these versions are wrapped by `toKeyId` from now on.
export const secretRewrappedSchema = z.object({
  id,
  versions: z.array(z.object({ version: z.number().int().positive(), fromKeyId: masterKeyId })).min(1),
  toKeyId: masterKeyId,
});

export const secretEventDataSchemas = {
  'SecretWritten@1': secretWrittenSchema,
  'SecretRead@1': secretReadSchema,
  'SecretDeleted@1': secretDeletedSchema,
  'SecretRewrapped@1': secretRewrappedSchema,
} as const;

type Schemas = typeof secretEventDataSchemas;
export type SecretWrittenV1 = EventData<Schemas['SecretWritten@1']>;
export type SecretReadV1 = EventData<Schemas['SecretRead@1']>;
export type SecretDeletedV1 = EventData<Schemas['SecretDeleted@1']>;
export type SecretRewrappedV1 = EventData<Schemas['SecretRewrapped@1']>;

// On topic spindle.secrets.secret.v1, streams secret-<id>.
export type SecretEvent = EventsOf<Schemas>;
export const isSecretEvent = isEventOf(secretEventDataSchemas);
