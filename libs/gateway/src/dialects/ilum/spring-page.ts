import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiQuery } from '@nestjs/swagger';
import type { OffsetPageRequest } from '@spindle/read-models';
import { ilumInvalid } from './ilum-errors.filter';

// Ilum's pages are Spring Data's: `page` from 0, `size` (default 10), `sort=field,asc|desc`
// repeatable, with real totals. Groups and jobs use the same helpers.
export const SPRING_PAGE_DEFAULT_SIZE = 10;
export const SPRING_PAGE_MAX_SIZE = 1_000;

export interface SpringPageRequest<TField extends string> {
  readonly page: number;
  readonly size: number;
  readonly sort: readonly { readonly field: TField; readonly ascending: boolean }[];
  readonly search?: string;
}

export interface SpringPageQuery {
  readonly page?: string | string[];
  readonly size?: string | string[];
  readonly sort?: string | string[];
  readonly search?: string | string[];
}

// One value of a query parameter (given twice: refused).
export function single(name: string, value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw ilumInvalid(`${name} may be given once`);
    return value[0];
  }
  return value;
}

export function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw ilumInvalid(`${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

// Reads the query; anything malformed is a 409 `{message}`, as Ilum answers validation.
export function springPageRequest<TField extends string>(
  query: SpringPageQuery,
  fields: readonly TField[],
): SpringPageRequest<TField> {
  const page = wholeNumber('page', single('page', query.page), 0, 0, 1_000_000);
  const size = wholeNumber(
    'size',
    single('size', query.size),
    SPRING_PAGE_DEFAULT_SIZE,
    1,
    SPRING_PAGE_MAX_SIZE,
  );
  const rules = query.sort === undefined ? [] : Array.isArray(query.sort) ? query.sort : [query.sort];
  if (rules.length > 10) throw ilumInvalid('at most 10 sort rules');
  const sort = rules
    .filter((r) => r !== '')
    .map((rule) => {
      const [field, direction = 'asc', ...rest] = rule.split(',');
      if (
        !(fields as readonly string[]).includes(field!) ||
        rest.length > 0 ||
        !/^(asc|desc)$/i.test(direction)
      ) {
        throw ilumInvalid(`sort must be field,asc|desc with field one of ${fields.join(', ')}`);
      }
      return { field: field as TField, ascending: direction.toLowerCase() === 'asc' };
    });
  const search = single('search', query.search);
  if (search !== undefined && search.length > 1_000) throw ilumInvalid('search is at most 1000 characters');
  return { page, size, sort, ...(search ? { search } : {}) };
}

// The read model's window for a page request: what its `page(...)` query takes.
export function offsetPageOf<TField extends string>(
  request: SpringPageRequest<TField>,
): OffsetPageRequest<TField> {
  return {
    offset: request.page * request.size,
    limit: request.size,
    sort: request.sort,
    ...(request.search === undefined ? {} : { search: request.search }),
  };
}

// Documents a Spring-paged list's `search`, `page`, `size` and `sort` parameters.
export function ApiSpringPage(fields: readonly string[], searched: string, sortExample: string) {
  return applyDecorators(
    ApiQuery({
      name: 'search',
      required: false,
      description: `The word to apply for filtering (${searched})`,
    }),
    ApiQuery({ name: 'page', required: false, schema: { type: 'integer', default: 0 } }),
    ApiQuery({
      name: 'size',
      required: false,
      schema: { type: 'integer', default: SPRING_PAGE_DEFAULT_SIZE, maximum: SPRING_PAGE_MAX_SIZE },
    }),
    ApiQuery({
      name: 'sort',
      required: false,
      isArray: true,
      description: `field,asc|desc; field one of ${fields.join(', ')}`,
      example: [sortExample],
    }),
  );
}

export class SpringPageable {
  @ApiProperty({ example: 0 }) number!: number;
  @ApiProperty({ example: 10 }) size!: number;
  @ApiProperty({ example: 0 }) offset!: number;
  @ApiProperty({ example: true }) paged!: boolean;
}

export interface SpringPage<T> {
  readonly page: SpringPageable;
  readonly sort: string[];
  readonly totalElements: number;
  readonly totalPages: number;
  readonly first: boolean;
  readonly last: boolean;
  readonly empty: boolean;
  readonly content: T[];
}

export function springPage<TRow, TItem>(
  request: SpringPageRequest<string>,
  rows: readonly TRow[],
  total: number,
  toItem: (row: TRow) => TItem,
): SpringPage<TItem> {
  const totalPages = Math.ceil(total / request.size);
  return {
    page: { number: request.page, size: request.size, offset: request.page * request.size, paged: true },
    sort: request.sort.map((s) => `${s.field},${s.ascending ? 'asc' : 'desc'}`),
    totalElements: total,
    totalPages,
    first: request.page === 0,
    last: request.page >= totalPages - 1,
    empty: rows.length === 0,
    content: rows.map(toItem),
  };
}

// The page's envelope for OpenAPI; each list's DTO adds `content`.
export class SpringPageDto {
  @ApiProperty({ type: SpringPageable }) page!: SpringPageable;
  @ApiProperty({ type: [String], example: ['name,asc'] }) sort!: string[];
  @ApiProperty({ example: 1 }) totalElements!: number;
  @ApiProperty({ example: 1 }) totalPages!: number;
  @ApiProperty() first!: boolean;
  @ApiProperty() last!: boolean;
  @ApiProperty() empty!: boolean;
}
