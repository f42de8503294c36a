import { GROUP_KINDS, GROUP_STATES } from '@spindle/contracts';
import type { GroupKind, GroupState } from '@spindle/contracts';
import type { GroupView } from '@spindle/read-models';
import { listParam } from './ilum-query';

// `a;b;c` lists (pyRequirements): empty items dropped.
export function parseList(text: string | undefined): string[] {
  return (text ?? '')
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export const groupStatesParam = (q: Record<string, unknown>): GroupState[] =>
  listParam(q, 'groupStates', GROUP_STATES) ?? [];
export const groupKindsParam = (q: Record<string, unknown>): GroupKind[] =>
  listParam(q, 'groupKinds', GROUP_KINDS) ?? [];

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
