import { MIST_STATUSES } from './mist-format';
import type { MistStatus } from './mist-format';
import { mistBadRequest } from './mist-errors.filter';
import { MAX_PAGE_SIZE } from '../../pagination.dto';

export const MIST_PREFIX = 'compat/mist/v2/api';

export interface MistPageQuery {
  readonly limit: number;
  readonly offset: number;
  readonly paginate: boolean;
  readonly statuses: MistStatus[] | undefined;
}

// A page holds at most as many jobs as the native API's (one read model serves both), and an offset
// skips at most this many: Postgres reads every skipped row, so a deep offset costs what a full scan
// does. Mist's own UI pages 25 at a time from the start.
export const MIST_MAX_LIMIT = MAX_PAGE_SIZE;
export const MIST_MAX_OFFSET = 100_000;

// limit (25), offset (0), paginate (false) and repeated status, read as Mist reads them.
export function mistPage(query: Record<string, unknown>): MistPageQuery {
  const int = (name: string, fallback: number, max: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw))
      throw mistBadRequest(`${name} must be a non-negative integer`);
    const value = Number(raw);
    if (value > max) throw mistBadRequest(`${name} must be at most ${max}`);
    return value;
  };
  const raw = query['status'];
  // A query parser may hand over something other than strings (nested forms): not a status either.
  const statuses =
    raw === undefined
      ? undefined
      : ([] as unknown[]).concat(raw).map((s) => (typeof s === 'string' ? s : '(not a string)'));
  const unknown = statuses?.filter((s) => !(MIST_STATUSES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw mistBadRequest(`Unknown statuses: ${unknown.join(', ')}`);
  return {
    limit: int('limit', 25, MIST_MAX_LIMIT),
    offset: int('offset', 0, MIST_MAX_OFFSET),
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
