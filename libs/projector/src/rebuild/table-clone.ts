import type { EntityManager } from 'typeorm';
import type { StreamRowTable } from '@spindle/backbone';
import { indexOn, readTableShape, rebuildName } from './table-shape';
import type { TableShape } from './table-shape';

// The new table a rebuild loads beside the live one, shaped like it, and the statements that put
// it in the live one's place. Its key is made at once (the load upserts on it); the other
// constraints and indexes after the load, which is faster than keeping them up to date row by row.
export class TableClone<TRow extends object> {
  private constructor(
    readonly live: StreamRowTable<TRow>,
    readonly next: StreamRowTable<TRow>,
    private readonly shape: TableShape,
  ) {}

  // Reads the live table's shape and creates the new table: columns, defaults, not-null and
  // check constraints, and the primary key. A table left over by a failed rebuild is dropped.
  static async create<TRow extends object>(
    manager: EntityManager,
    live: StreamRowTable<TRow>,
    next: StreamRowTable<TRow>,
  ): Promise<TableClone<TRow>> {
    const shape = await readTableShape(manager, live.schema, live.table);
    await manager.query(`drop table if exists ${next.qualifiedName}`);
    await manager.query(
      `create table ${next.qualifiedName} (like ${live.qualifiedName} including defaults including constraints)`,
    );
    const clone = new TableClone(live, next, shape);
    for (const c of shape.constraints.filter((c) => c.primary)) await clone.addConstraint(manager, c);
    return clone;
  }

  // The other constraints and indexes, once the load is done; then fresh statistics.
  async index(manager: EntityManager): Promise<void> {
    for (const c of this.shape.constraints.filter((c) => !c.primary)) await this.addConstraint(manager, c);
    for (const index of this.shape.indexes) await manager.query(indexOn(index, this.next.qualifiedName));
    await manager.query(`analyze ${this.next.qualifiedName}`);
  }

  // Drops the live table and renames the new one, its constraints and indexes into its place.
  // Inside the swap's transaction, with the live table locked.
  async replaceLive(manager: EntityManager): Promise<void> {
    const live = this.live;
    await manager.query(`drop table ${live.qualifiedName}`);
    await manager.query(`alter table ${this.next.qualifiedName} rename to "${live.table}"`);
    for (const c of this.shape.constraints)
      await manager.query(
        `alter table ${live.qualifiedName} rename constraint "${rebuildName(c.name)}" to "${c.name}"`,
      );
    for (const index of this.shape.indexes)
      await manager.query(
        `alter index "${live.schema}"."${rebuildName(index.name)}" rename to "${index.name}"`,
      );
  }

  private async addConstraint(
    manager: EntityManager,
    c: { name: string; definition: string },
  ): Promise<void> {
    await manager.query(
      `alter table ${this.next.qualifiedName} add constraint "${rebuildName(c.name)}" ${c.definition}`,
    );
  }
}
