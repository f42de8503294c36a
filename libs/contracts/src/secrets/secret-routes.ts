import { z } from 'zod';
import { JOB_ID_PATTERN } from '../scheduler/job.events';
import { MAPREDUCE_JOB_ID_PATTERN } from '../mapreduce/mapreduce-job.events';
import {
  SECRET_KEY_PATTERN,
  SECRET_MAX_KEYS,
  SECRET_TOTAL_MAX_BYTES,
  SECRET_VALUE_MAX_BYTES,
} from './secret.events';
import { secretRefsSchema } from './secret-refs';

// The secrets service's internal HTTP routes: the only way plaintext leaves it (to the gateway
// for GET /api/v1/secrets/{id}, to a worker agent for a job's start). Never Kafka.
export const SECRETS_INTERNAL_BASE = '/internal/v1/secrets';
// Who is asking, as the gateway saw it: the API key the request acts as (its id; `anonymous` on an
// open listener), the client's address, and the request's correlation id.
export const SECRET_PRINCIPAL_HEADER = 'x-spindle-secret-principal';
export const SECRET_SOURCE_HEADER = 'x-spindle-secret-source';
export const CORRELATION_ID_HEADER = 'x-correlation-id';

export const secretValuesSchema = z
  .record(z.string().regex(SECRET_KEY_PATTERN), z.string())
  .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= SECRET_MAX_KEYS, {
    message: `a secret has 1 to ${SECRET_MAX_KEYS} keys`,
  })
  .refine((m) => Object.values(m).every((v) => Buffer.byteLength(v, 'utf8') <= SECRET_VALUE_MAX_BYTES), {
    message: `a value is at most ${SECRET_VALUE_MAX_BYTES} bytes`,
  })
  .refine((m) => secretMapBytes(m) <= SECRET_TOTAL_MAX_BYTES, {
    message: `keys and values together are at most ${SECRET_TOTAL_MAX_BYTES} bytes`,
  });

export function secretMapBytes(values: Readonly<Record<string, string>>): number {
  return Object.entries(values).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'),
    0,
  );
}

// PUT {base}/{id}
export const writeSecretBodySchema = z.object({ values: secretValuesSchema });

// What the list and a write answer: never a value.
export interface SecretSummary {
  readonly id: string;
  readonly version: number;
  readonly keys: readonly string[];
  readonly createdAt: string; // the secret's first version (since it was last deleted)
  readonly updatedAt: string; // its latest version
}
export interface SecretWithValues extends SecretSummary {
  readonly values: Readonly<Record<string, string>>;
}
export interface SecretPage {
  readonly items: readonly SecretSummary[];
  readonly nextCursor: string | null; // the last id of the page, to continue after
}

// POST {base}/resolve: a worker agent, at a job's start, for that job only.
export const resolveSecretsBodySchema = z.object({
  // A job's id, or a MapReduce job's (its storage credentials are secrets too).
  jobId: z
    .string()
    .refine((id) => JOB_ID_PATTERN.test(id) || MAPREDUCE_JOB_ID_PATTERN.test(id), 'must be a job id'),
  hostId: z.string().min(1).max(200),
  refs: secretRefsSchema,
});
export type ResolveSecretsBody = z.infer<typeof resolveSecretsBodySchema>;
// The variables the job's process gets: each key of each reference, by its own name.
export interface ResolvedSecrets {
  readonly env: Readonly<Record<string, string>>;
}
