import { Controller, UseFilters, applyDecorators } from '@nestjs/common';
import type { ExceptionFilter, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { ApiScope } from '@spindle/contracts';
import { RequiresScope } from '@spindle/platform';

// A dialect's controller: its tag in the dialect's OpenAPI document, its errors in the form the
// system's clients expect, its path below /compat/<name>, and the scope its routes need unless a
// route asks for more (read, for most).
export function DialectController(
  tag: string,
  errors: Type<ExceptionFilter>,
  path: string,
  scope: ApiScope = 'read',
): ClassDecorator {
  return applyDecorators(ApiTags(tag), UseFilters(errors), RequiresScope(scope), Controller(path));
}
