import type { EntityManager } from 'typeorm';

// A statement that can run on its own or ride as CTEs in another (one round trip less than a
// statement of its own after that one: the scheduler's dispatch tables written in the append of
// the events they follow, PostgresEventStore.appendMany). `with` are its CTEs (`name as (...)`, in
// order), `statement` its last part, data-modifying or not, a CTE itself when it rides. Its
// placeholders count from $1 over its own `params`, so the text holds no other `$` (no dollar
// quoting). Riding, it reads the tables as they were before the other statement (one snapshot for
// all of a statement's CTEs), and its CTE names must not be the other statement's; Postgres runs a
// data-modifying CTE exactly once and to completion, whether or not anything reads it.
export interface StatementParts {
  readonly with: readonly string[];
  readonly statement: string;
  readonly params: readonly unknown[];
}

export function statementOf(parts: StatementParts): string {
  return parts.with.length === 0 ? parts.statement : `with ${parts.with.join(',\n')}\n${parts.statement}`;
}

export async function runStatements(
  manager: EntityManager,
  statements: readonly StatementParts[],
): Promise<void> {
  for (const parts of statements) await manager.query(statementOf(parts), [...parts.params]);
}

// Riders as CTEs of another statement whose own placeholders are $1..$offset: each one's `with`,
// then its statement as `riding_<i>`, their parameters after the other statement's in order. Two
// riders may not name a CTE alike (one kind of write twice has no `with` of its own).
export function ridingCtes(
  riders: readonly StatementParts[],
  offset: number,
): { readonly ctes: string; readonly params: readonly unknown[] } {
  const ctes: string[] = [];
  const params: unknown[] = [];
  const names = new Set<string>();
  riders.forEach((parts, i) => {
    const from = offset + params.length;
    const renumbered = (sql: string) => sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + from}`);
    for (const cte of parts.with) {
      const name = /^\s*(\w+)\s+as\b/i.exec(cte)?.[1] ?? cte;
      if (names.has(name)) throw new Error(`two riding statements name a CTE ${name}`);
      names.add(name);
      ctes.push(renumbered(cte));
    }
    ctes.push(`riding_${i} as (${renumbered(parts.statement)})`);
    params.push(...parts.params);
  });
  return { ctes: ctes.join(',\n'), params };
}

// The elements of a JSON array parameter (`$n`, its JSON text), in order, as a jsonb[] for
// `unnest`. A batch's JSON documents go as one JSON array rather than a JS array of JSON strings:
// node-postgres sends the latter as an array literal, escaping every element's quotes and
// backslashes with two regular-expression replaces (a new copy of each document each time), which
// was the largest source of allocation in the processes that append events (about a seventh of
// the bytes allocated in the control process and the worker under shared jobs, 2026-12-07).
export function jsonbElements(placeholder: string): string {
  return `array(select j.value from jsonb_array_elements(${placeholder}::jsonb) with ordinality as j(value, n) order by j.n)`;
}
