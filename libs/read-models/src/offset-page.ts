import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

// An offset page with its real total, as Spring pages (Ilum's lists) are: sorted as asked, then by
// name, the tie-break that makes the order total (unless name is asked for: a second order on one
// column would replace the first).
export interface OffsetPageRequest<TField extends string> {
  readonly offset: number;
  readonly limit: number;
  readonly sort: readonly { readonly field: TField; readonly ascending: boolean }[];
  readonly search?: string;
}

export async function offsetPage<TRow extends ObjectLiteral, TField extends string>(
  query: SelectQueryBuilder<TRow>,
  request: OffsetPageRequest<TField>,
  columnOf: Readonly<Record<TField, string>>,
  nameField: TField,
): Promise<{ rows: TRow[]; total: number }> {
  // One row per stream and no joins: a plain count(*) (TypeORM's count is a slower count(distinct)),
  // read beside the page rather than after it.
  const counted = query.clone().select('count(*)::int', 'total').getRawOne<{ total: number }>();
  for (const s of request.sort) query.addOrderBy(columnOf[s.field], s.ascending ? 'ASC' : 'DESC');
  if (!request.sort.some((s) => s.field === nameField)) query.addOrderBy(columnOf[nameField], 'ASC');
  query.offset(request.offset).limit(request.limit);
  const [rows, count] = await Promise.all([query.getMany(), counted]);
  return { rows, total: count?.total ?? 0 };
}

// `search` as an ILIKE pattern that matches the word anywhere, its wildcards taken literally.
export function containsPattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
