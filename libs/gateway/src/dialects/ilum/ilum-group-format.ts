import { GROUP_KINDS, GROUP_STATES } from '@spindle/contracts';
import type { GroupKind, GroupState } from '@spindle/contracts';
import type { GroupView } from '@spindle/read-models';
import { ilumInvalid } from './ilum-errors.filter';

// Ilum's job states (1.3.0). A group's workers are READY when idle and BUSY while running a request.
export const ILUM_JOB_STATES = [
  'SUBMITTED',
  'STARTING',
  'READY',
  'BUSY',
  'FAILED',
  'FINISHED',
  'UNKNOWN',
] as const;
export type IlumJobState = (typeof ILUM_JOB_STATES)[number];

// Ilum writes maps as `key=value;key2=value2` (tags, jobConfig): a pair without "=" or with an
// empty key is refused (409), naming the field; a value may itself hold "=".
export function parsePairs(field: string, text: string | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (text ?? '').split(';')) {
    if (item.trim() === '') continue;
    const at = item.indexOf('=');
    const key = at < 0 ? '' : item.slice(0, at).trim();
    if (key === '') throw ilumInvalid(`${field} must be key=value pairs separated by ";" (got "${item}")`);
    pairs[key] = item.slice(at + 1).trim();
  }
  return pairs;
}

export function formatPairs(pairs: Readonly<Record<string, string>>): string {
  return Object.entries(pairs)
    .map(([key, value]) => `${key}=${value}`)
    .join(';');
}

// `a;b;c` lists (pyRequirements): empty items dropped.
export function parseList(text: string | undefined): string[] {
  return (text ?? '')
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

// A repeatable query parameter as Spring reads it: repeated (`k=a&k=b`), `k[]=a`, or `k=a,b`.
export function listParam(query: Record<string, unknown>, name: string): string[] {
  const values = [query[name], query[`${name}[]`]].flatMap((v) =>
    v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v],
  );
  return values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

// The values of an enum parameter, each one checked (409 naming the parameter and its values).
export function enumParam<T extends string>(
  query: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
): T[] {
  const values = listParam(query, name);
  const wrong = values.find((v) => !(allowed as readonly string[]).includes(v));
  if (wrong !== undefined) throw ilumInvalid(`${name} must be among ${allowed.join(', ')} (got "${wrong}")`);
  return values as T[];
}

export const groupStatesParam = (q: Record<string, unknown>): GroupState[] =>
  enumParam(q, 'groupStates', GROUP_STATES);
export const groupKindsParam = (q: Record<string, unknown>): GroupKind[] =>
  enumParam(q, 'groupKinds', GROUP_KINDS);

export interface IlumGroupInfo {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly kind: GroupKind;
  readonly tags: Record<string, string>;
  readonly language: string;
  readonly clusterName: string;
  readonly state: GroupState;
  readonly scale: number;
  readonly jobConfig: Record<string, string>;
  readonly createdTime: number;
  readonly archivedTime: number | null;
  readonly jobs: unknown[];
}

// Ilum's groupInfo. Times are epoch milliseconds. `jobs` lists the group's workers (read by id or
// name; a page leaves it empty rather than read every group's workers).
export function groupInfoOf(view: GroupView, workers: unknown[] = []): IlumGroupInfo {
  return {
    id: view.id,
    name: view.name,
    description: view.description,
    kind: view.kind,
    tags: view.tags,
    language: view.language,
    clusterName: view.clusterName,
    state: view.state,
    scale: view.scale,
    jobConfig: view.definition.jobConfig,
    createdTime: view.createdAt.getTime(),
    archivedTime: view.archivedAt?.getTime() ?? null,
    jobs: workers,
  };
}
