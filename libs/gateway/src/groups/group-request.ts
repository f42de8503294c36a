import { z } from 'zod';
import {
  ARTIFACT_NAME_PATTERN,
  DEFAULT_CLUSTER_NAME,
  GROUP_KINDS,
  GROUP_LANGUAGES,
  GROUP_NAME_PATTERN,
  MAX_GROUP_SCALE,
} from '@spindle/contracts';
import type { GroupDefinition } from '@spindle/contracts';
import type { FieldViolation } from '@spindle/platform';

// A group as both the native route and Ilum's form describe it, once their own syntax is read
// (Ilum's `k=v;k2=v2` strings become maps): defaults are Ilum's (cluster `default`, kind JOB,
// language SCALA, scale 1). Programs are artifact names.
const scaleRule = `scale must be a whole number from 1 to ${MAX_GROUP_SCALE}`;
const artifacts = (field: string) =>
  z
    .array(z.string().regex(ARTIFACT_NAME_PATTERN, `${field} holds artifact names`))
    .max(100, `at most 100 ${field}`)
    .default([]);
const pairs = (field: string) =>
  z
    .record(z.string().min(1).max(256), z.string().max(10_000), { error: `${field} maps names to text` })
    .refine((m) => Object.keys(m).length <= 200, `at most 200 ${field}`)
    .default({});

const PY_REQUIREMENTS_REFUSAL =
  "not supported: Spindle installs no Python packages for a group (its workers share the worker host's Python); ship pure-Python modules in pyFiles instead";

export const groupRequestSchema = z.object({
  name: z
    .string({ error: 'name is required' })
    .regex(
      GROUP_NAME_PATTERN,
      'name must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 128)',
    ),
  clusterName: z.string().min(1).max(128).default(DEFAULT_CLUSTER_NAME),
  description: z.string().max(10_000, 'description is at most 10000 characters').default(''),
  kind: z.enum(GROUP_KINDS, { error: `kind must be one of ${GROUP_KINDS.join(', ')}` }).default('JOB'),
  language: z
    .enum(GROUP_LANGUAGES, { error: `language must be one of ${GROUP_LANGUAGES.join(', ')}` })
    .default('SCALA'),
  tags: pairs('tags'),
  jobConfig: pairs('jobConfig'),
  jars: artifacts('jars'),
  files: artifacts('files'),
  pyFiles: artifacts('pyFiles'),
  // Refused rather than recorded and ignored: a group's workers run in the worker host's one
  // Python, shared by every group and job there, and Spindle has no per-group environment to
  // install packages into (docs/dialects/ilum.md).
  pyRequirements: z.array(z.string()).max(0, PY_REQUIREMENTS_REFUSAL).default([]),
  scale: z
    .number({ error: scaleRule })
    .int(scaleRule)
    .min(1, scaleRule)
    .max(MAX_GROUP_SCALE, scaleRule)
    .default(1),
});

export interface GroupRequest {
  readonly name: string;
  readonly scale: number;
  readonly definition: GroupDefinition;
}

export function parseGroupRequest(
  body: unknown,
): { ok: true; request: GroupRequest } | { ok: false; errors: FieldViolation[] } {
  const parsed = groupRequestSchema.safeParse(body ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || 'body',
        rule: issue.code,
        message: issue.message,
      })),
    };
  }
  const { name, scale, ...definition } = parsed.data;
  return { ok: true, request: { name, scale, definition } };
}

// One scale, as a path or form field (text) or a JSON body (number) gives it: a whole number in
// range, or the rule it breaks.
export function parseScale(raw: unknown): number | FieldViolation {
  const text = typeof raw === 'number' ? String(raw) : raw;
  const scale = typeof text === 'string' && /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  return scale >= 1 && scale <= MAX_GROUP_SCALE
    ? scale
    : { field: 'scale', rule: 'range', message: scaleRule };
}
