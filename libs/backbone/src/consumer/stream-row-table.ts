import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager, EntityMetadata, ValueTransformer } from 'typeorm';
import { runStatements } from '../database/statement-parts';
import type { StatementParts } from '../database/statement-parts';

type ColumnMetadata = EntityMetadata['columns'][number];

// Rows are written in statements of at most this many (one JSON parameter each).
const WRITE_CHUNK = 2_000;

// Reads and writes a stream projection's rows with one plain statement per batch: `= any($1)`
// to read, `jsonb_populate_recordset` to upsert. TypeORM's repository builds a statement with a
// parameter per cell and hydrates through its query builder, which was a visible share of the
// projector's CPU under load; the entity's metadata still says which column is which, so the
// entity classes stay the single description of a read model. The table can be another of the
// same shape (a rebuild writes into a fresh copy before it swaps it in).
export class StreamRowTable<TRow extends object> {
  readonly qualifiedName: string;
  private readonly columns: readonly ColumnMetadata[];
  private readonly columnList: string;
  private readonly updateList: string;
  readonly streamIdColumn: string;
  readonly streamPositionColumn: string;

  constructor(
    private readonly metadata: EntityMetadata,
    readonly schema: string,
    readonly table: string = metadata.tableName,
  ) {
    this.qualifiedName = `"${schema}"."${table}"`;
    this.columns = metadata.columns;
    this.streamIdColumn = columnNamed(metadata, 'streamId');
    this.streamPositionColumn = columnNamed(metadata, 'streamPosition');
    this.columnList = this.columns.map((c) => `"${c.databaseName}"`).join(', ');
    this.updateList = this.columns
      .filter((c) => c.databaseName !== this.streamIdColumn)
      .map((c) => `"${c.databaseName}" = excluded."${c.databaseName}"`)
      .join(', ');
  }

  static of<TRow extends object>(
    manager: EntityManager,
    entity: Function,
    table?: string,
  ): StreamRowTable<TRow> {
    const metadata = manager.connection.getMetadata(entity);
    const schema = metadata.schema ?? (manager.connection.options as { schema?: string }).schema ?? 'public';
    return new StreamRowTable<TRow>(metadata, schema, table);
  }

  // Another table of the same shape, in the same schema.
  sibling(table: string): StreamRowTable<TRow> {
    return new StreamRowTable<TRow>(this.metadata, this.schema, table);
  }

  async load(manager: EntityManager, streamIds: readonly string[]): Promise<TRow[]> {
    if (streamIds.length === 0) return [];
    return this.select(manager, `where "${this.streamIdColumn}" = any($1::text[])`, [streamIds]);
  }

  // Whole rows matching `clause` (where / order by / limit, with $n parameters): the read side's
  // pages, one plain statement each.
  async select(manager: EntityManager, clause: string, parameters: readonly unknown[]): Promise<TRow[]> {
    const raw: Record<string, unknown>[] = await manager.query(
      `select ${this.columnList} from ${this.qualifiedName} ${clause}`,
      [...parameters],
    );
    return raw.map((r) => this.decode(r));
  }

  // Insert or replace whole rows, keyed by stream id (each at most once per call).
  async upsert(manager: EntityManager, rows: readonly TRow[]): Promise<void> {
    await runStatements(manager, this.upserts(rows));
  }

  // The same as writes to run later, in a statement of their own or as part of another. A row
  // only moves forward: one of a stream position at or below the stored row's changes nothing, so
  // rows worked out from an earlier read (a zombie consumer's, a batch applied twice) cannot take
  // a row back.
  upserts(rows: readonly TRow[]): StatementParts[] {
    const writes: StatementParts[] = [];
    for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
      const chunk = JSON.stringify(rows.slice(i, i + WRITE_CHUNK).map((row) => this.encode(row)));
      writes.push({
        with: [],
        statement: `insert into ${this.qualifiedName} as stored (${this.columnList})
         select ${this.columnList} from jsonb_populate_recordset(null::${this.qualifiedName}, $1::jsonb)
         on conflict ("${this.streamIdColumn}") do update set ${this.updateList}
         where stored."${this.streamPositionColumn}" < excluded."${this.streamPositionColumn}"`,
        params: [chunk],
      });
    }
    return writes;
  }

  // Rows that are not in the table yet, through COPY: several times faster than an insert for a
  // bulk load (a rebuild's fresh table). `client` is a pg client (a QueryRunner's connection).
  async copyIn(client: PoolClient, rows: readonly TRow[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = this.columns;
    const json = columns.map((c) => c.type === 'jsonb' || c.type === 'json');
    const encode = (row: TRow): string => {
      const cells: string[] = [];
      for (const [i, column] of columns.entries()) {
        let value = (row as Record<string, unknown>)[column.propertyName];
        if (column.transformer) value = toDatabase(column.transformer, value);
        cells.push(csvCell(value, json[i]!));
      }
      return cells.join(',');
    };
    async function* lines(): AsyncGenerator<string> {
      for (let i = 0; i < rows.length; i += 500) {
        let chunk = '';
        for (const row of rows.slice(i, i + 500)) chunk += `${encode(row)}\n`;
        yield chunk;
      }
    }
    await pipeline(
      Readable.from(lines()),
      client.query(copyFrom(`copy ${this.qualifiedName} (${this.columnList}) from stdin with (format csv)`)),
    );
  }

  // Entity object -> record keyed by column name, as jsonb_populate_recordset reads it (Dates
  // become ISO strings through JSON; jsonb columns stay nested JSON).
  private encode(row: TRow): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    for (const column of this.columns) {
      const value = (row as Record<string, unknown>)[column.propertyName];
      record[column.databaseName] = column.transformer ? toDatabase(column.transformer, value) : value;
    }
    return record;
  }

  private decode(raw: Record<string, unknown>): TRow {
    const row = this.metadata.create() as Record<string, unknown>;
    for (const column of this.columns) {
      const value = raw[column.databaseName] ?? null;
      row[column.propertyName] = column.transformer ? fromDatabase(column.transformer, value) : value;
    }
    return row as TRow;
  }
}

// A column's transformers as TypeORM's own reads and writes apply them (ValueTransformer's
// contract): `to` in the order declared, `from` in reverse.
function toDatabase(transformer: ValueTransformer | ValueTransformer[], value: unknown): unknown {
  return [transformer].flat().reduce<unknown>((v, t) => t.to(v), value);
}

function fromDatabase(transformer: ValueTransformer | ValueTransformer[], value: unknown): unknown {
  return [transformer].flat().reduceRight<unknown>((v, t) => t.from(v), value);
}

function columnNamed(metadata: EntityMetadata, property: string): string {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${metadata.name} has no ${property} column: not a stream row`);
  return column.databaseName;
}

// A value as a cell of COPY's CSV format: nothing for NULL, anything else quoted (so an empty
// string stays an empty string), quotes doubled.
function csvCell(value: unknown, json: boolean): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string' && !json
      ? value
      : value instanceof Date && !json
        ? value.toISOString()
        : JSON.stringify(value); // jsonb, and numbers and booleans as Postgres reads them
  return `"${text.replaceAll('"', '""')}"`;
}
