import { Injectable } from '@nestjs/common';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { ValidationProblem } from './problem-details';

const NUL = '\u0000';
const MAX_DEPTH = 64;

// PostgreSQL stores no NUL character in text or jsonb ("invalid byte sequence", "unsupported
// Unicode escape sequence"), so a name, query value or body string holding one could only end in
// a 500 deep in a query. Refused at the edge instead, on every surface, naming where it was: a
// dialect's error filter says it in that dialect's shape.
@Injectable()
export class NulTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const at = nulAt(value, metadata.data ?? '', 0);
    if (at !== undefined)
      throw new ValidationProblem([
        {
          field: at || metadata.type,
          rule: 'noNul',
          message: 'must not contain the NUL character (\\u0000)',
        },
      ]);
    return value;
  }
}

// Where in the value a NUL is (a dotted path, keys included), if anywhere.
function nulAt(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const inner = path ? `${path}.${key}` : key;
    if (key.includes(NUL)) return inner;
    const found = nulAt(item, inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
