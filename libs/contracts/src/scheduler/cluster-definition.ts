import { z } from 'zod';

// A cluster is where Spark-style work runs: `local` (Spindle's own worker hosts), `k8s` or `yarn`.
// Only `local` has an executor today; the others are recorded, and work sent to them is refused.
export const CLUSTER_TYPES = ['local', 'k8s', 'yarn'] as const;
export type ClusterType = (typeof CLUSTER_TYPES)[number];
export const STORAGE_TYPES = ['s3', 'gcs', 'wasbs', 'hdfs'] as const;

export const DEFAULT_CLUSTER_NAME = 'default';
export const DEFAULT_CLUSTER_ID = 'default';
export const DEFAULT_CLUSTER_THREADS = 4;

export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const clusterNameSchema = z.string().regex(CLUSTER_NAME_PATTERN);
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

// Credentials: never in an event, a read model or a response. They go to the secrets service under
// `cluster-<id>`; events keep the paths they were at (`password`, `storages.lake.secretKey`).
export const CLUSTER_SECRET_FIELDS = ['password', 'clientKey', 'clientKeyPassphrase'] as const;
export const STORAGE_SECRET_FIELDS = [
  'accessKey',
  'secretKey',
  'privateKey',
  'privateKeyId',
  'keyTab',
] as const;
export const REDACTED = '***';

const text = z.string().max(100_000);

// What a cluster is, without its credentials: the type's own settings (url, threads, caCert...) and
// its storages' non-secret settings.
export const clusterDefinitionSchema = z.object({
  description: z.string().max(10_000),
  sparkStorage: z.string().max(128).nullable(),
  defaultApplicationConfig: text.nullable(),
  settings: z.record(z.string(), z.union([text, z.number()])),
  storages: z.record(z.string(), z.record(z.string(), text)),
});
export type ClusterDefinition = z.infer<typeof clusterDefinitionSchema>;

export function clusterStreamId(name: string): string {
  return `cluster-${name}`;
}

export function clusterSecretId(id: string): string {
  return `cluster-${id}`;
}

// The secrets service's key for the i-th secret field (its paths may hold any storage name).
export function clusterSecretKey(index: number): string {
  return `f${index}`;
}

// Cluster types Spindle can run work on. Groups and jobs sent to any other type are refused
// (409 in Ilum's dialect) with this message, until an executor for it exists.
export const EXECUTABLE_CLUSTER_TYPES: readonly ClusterType[] = ['local'];

export function clusterExecutorRefusal(name: string, type: ClusterType): string | null {
  return EXECUTABLE_CLUSTER_TYPES.includes(type)
    ? null
    : `cluster ${name} is a ${type} cluster: Spindle has no ${type} executor yet; use a local cluster (such as default)`;
}
