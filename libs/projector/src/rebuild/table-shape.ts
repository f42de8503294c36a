import type { EntityManager } from 'typeorm';

// The new table is built beside the live one under the live names with this suffix, and renamed
// into their place at the swap.
export const REBUILD_SUFFIX = '__rebuild';
const PG_NAME_MAX = 63;

export interface NamedDefinition {
  readonly name: string;
  readonly definition: string;
}

// What a rebuilt table must have besides its columns (which `create table ... (like ...)`
// copies): the live table's key, unique and exclusion constraints and its other indexes.
export interface TableShape {
  readonly constraints: readonly (NamedDefinition & { primary: boolean })[];
  readonly indexes: readonly NamedDefinition[];
}

// A live table's constraint or index name -> the name of its twin on the new table.
export function rebuildName(name: string): string {
  return `${name}${REBUILD_SUFFIX}`;
}

// The shape from the catalogue's rows (constraint type 'p', 'u' or 'x'). Indexes that back a
// constraint come with it; every name must still fit Postgres's limit once suffixed.
export function shapeFrom(
  constraints: readonly (NamedDefinition & { type: string })[],
  indexes: readonly NamedDefinition[],
): TableShape {
  const ownedByConstraint = new Set(constraints.map((c) => c.name));
  for (const name of [...constraints.map((c) => c.name), ...indexes.map((i) => i.name)])
    if (rebuildName(name).length > PG_NAME_MAX)
      throw new Error(`index name ${name} is too long to rebuild beside`);
  return {
    constraints: constraints.map((c) => ({
      name: c.name,
      definition: c.definition,
      primary: c.type === 'p',
    })),
    indexes: indexes.filter((i) => !ownedByConstraint.has(i.name)),
  };
}

export async function readTableShape(
  manager: EntityManager,
  schema: string,
  table: string,
): Promise<TableShape> {
  const constraints: (NamedDefinition & { type: string })[] = await manager.query(
    `select c.conname as name, pg_get_constraintdef(c.oid) as definition, c.contype as type
     from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
     where n.nspname = $1 and t.relname = $2 and c.contype in ('p', 'u', 'x')`,
    [schema, table],
  );
  const indexes: NamedDefinition[] = await manager.query(
    `select indexname as name, indexdef as definition from pg_indexes
     where schemaname = $1 and tablename = $2`,
    [schema, table],
  );
  return shapeFrom(constraints, indexes);
}

// `CREATE [UNIQUE] INDEX name ON schema.table USING ...` -> the same, renamed, on `table`.
export function indexOn(index: NamedDefinition, qualifiedTable: string): string {
  const using = index.definition.indexOf(' USING ');
  if (using < 0) throw new Error(`cannot read index ${index.name}: ${index.definition}`);
  const unique = /^CREATE UNIQUE /i.test(index.definition) ? 'unique ' : '';
  return `create ${unique}index "${rebuildName(index.name)}" on ${qualifiedTable}${index.definition.slice(using)}`;
}
