import type { EntityManager } from 'typeorm';

// A statement that can run on its own or ride as CTEs in another (one round trip less than a
// statement of its own after that one: the scheduler's dispatch tables written in the append of
// the events they follow, PostgresEventStore.appendMany). `with` are its CTEs (`name as (...)`, in
// order), `statement` its last part, data-modifying or not, a CTE itself when it rides. Its
// placeholders count from $1 over its own `params`, so the text holds no other `$` (no dollar
// quoting). Riding, it reads the tables as they were before the other statement (one snapshot for
// all of a statement's CTEs), and its CTE names must not be the other statement's.
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

// The parts as CTEs of another statement whose own placeholders are $1..$offset; the last one is
// named `riding`.
export function ctesOf(parts: StatementParts, offset: number): string {
  const renumbered = (sql: string) => sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  return [...parts.with.map(renumbered), `riding as (${renumbered(parts.statement)})`].join(',\n');
}
