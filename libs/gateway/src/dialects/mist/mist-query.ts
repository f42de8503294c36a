import { MIST_STATUSES } from './mist-format';
import type { MistStatus } from './mist-format';
import { mistBadRequest } from './mist-errors.filter';

export const MIST_PREFIX = 'compat/mist/v2/api';

export interface MistPageQuery {
  readonly limit: number;
  readonly offset: number;
  readonly paginate: boolean;
  readonly statuses: MistStatus[] | undefined;
}

// limit (25), offset (0), paginate (false) and repeated status, read as Mist reads them.
export function mistPage(query: Record<string, unknown>): MistPageQuery {
  const int = (name: string, fallback: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw))
      throw mistBadRequest(`${name} must be a non-negative integer`);
    return Number(raw);
  };
  const raw = query['status'];
  const statuses = raw === undefined ? undefined : ([] as unknown[]).concat(raw).map(String);
  const unknown = statuses?.filter((s) => !(MIST_STATUSES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw mistBadRequest(`Unknown statuses: ${unknown.join(', ')}`);
  return {
    limit: int('limit', 25),
    offset: int('offset', 0),
    paginate: bool(query['paginate'], 'paginate'),
    statuses: statuses as MistStatus[] | undefined,
  };
}

export function bool(raw: unknown, name: string): boolean {
  if (raw === undefined) return false;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw mistBadRequest(`${name} must be true or false`);
}
