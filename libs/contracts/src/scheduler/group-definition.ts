import { z } from 'zod';
import { CLUSTER_NAME_PATTERN, clusterNameSchema } from './cluster-definition';

// A group is a named pool of long-running interactive workers (an Ilum group): `scale` of them,
// each running one request at a time in a warm interpreter. `kind` JOB runs a class of the group's
// programs per request, CODE runs a snippet in a persistent interpreter. NODE is Spindle's own
// addition to Ilum's SCALA and PYTHON.
export const GROUP_KINDS = ['JOB', 'CODE'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];
export const GROUP_LANGUAGES = ['SCALA', 'PYTHON', 'NODE'] as const;
export type GroupLanguage = (typeof GROUP_LANGUAGES)[number];
// ACTIVE while its workers are up; ARCHIVED once stopped (kept, listed, never restarted).
export const GROUP_STATES = ['ACTIVE', 'ARCHIVED'] as const;
export type GroupState = (typeof GROUP_STATES)[number];

export const GROUP_NAME_PATTERN = CLUSTER_NAME_PATTERN;
export const groupNameSchema = z.string().regex(GROUP_NAME_PATTERN);
export const GROUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// Every worker is a process on a worker host: a group asks for at most this many.
export const MAX_GROUP_SCALE = 64;
export const groupScaleSchema = z.number().int().min(1).max(MAX_GROUP_SCALE);

const key = z.string().min(1).max(256);
const value = z.string().max(10_000);
const artifactNames = z.array(z.string().max(300)).max(100);

// What a group runs and where, as recorded: programs are artifacts by name, never bytes.
export const groupDefinitionSchema = z.object({
  clusterName: clusterNameSchema,
  description: z.string().max(10_000),
  kind: z.enum(GROUP_KINDS),
  language: z.enum(GROUP_LANGUAGES),
  tags: z.record(key, value),
  jobConfig: z.record(key, value),
  jars: artifactNames,
  files: artifactNames,
  pyFiles: artifactNames,
  pyRequirements: z.array(z.string().min(1).max(300)).max(200),
});
export type GroupDefinition = z.infer<typeof groupDefinitionSchema>;

// Keyed by name: names are unique among groups that exist (active or archived).
export function groupStreamId(name: string): string {
  return `group-${name}`;
}

// The dispatch context behind a group's workers. A `:` no context name may hold, so no Mist
// context can take it.
export const GROUP_CONTEXT_PREFIX = 'group:';
export function groupContextName(id: string): string {
  return `${GROUP_CONTEXT_PREFIX}${id}`;
}
