import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { ValidationProblem, IsOmittable } from '@spindle/platform';

export const MAX_PAGE_SIZE = 500;

// The one page shape of the native API: `limit` and an opaque keyset `cursor`.
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 25 })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = 25;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOmittable()
  @IsString()
  @MaxLength(1_000)
  cursor?: string;
}

export function encodeCursor(value: string): string {
  return Buffer.from(JSON.stringify([value])).toString('base64url');
}

export function decodeCursor(cursor: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

// The key to continue after, from a client's cursor; a cursor this API did not issue is a 400.
export function cursorAfter(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const after = decodeCursor(cursor);
  if (after === undefined) {
    throw new ValidationProblem([
      { field: 'cursor', rule: 'isCursor', message: 'cursor is not one this API issued' },
    ]);
  }
  return after;
}

export function pageOf<TRow, TDto>(
  page: { items: TRow[]; nextCursor: string | null },
  toDto: (row: TRow) => TDto,
): { items: TDto[]; nextCursor: string | null } {
  return {
    items: page.items.map(toDto),
    nextCursor: page.nextCursor === null ? null : encodeCursor(page.nextCursor),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// For lists keyed by UUID (jobs, workers): a cursor holding anything else was not issued here.
export function uuidCursorAfter(cursor: string | undefined): string | null {
  const after = cursorAfter(cursor);
  if (after !== null && !UUID.test(after)) {
    throw new ValidationProblem([
      { field: 'cursor', rule: 'isCursor', message: 'cursor is not one this API issued' },
    ]);
  }
  return after;
}
