import type { DataSource, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { NOTIFY_CHANNELS, PgNotifications, groupedReads, waitForChange } from '@spindle/backbone';

// A read-model row keyed by a unique name and mirroring one stream; deleted rows are tombstones.
export interface NamedView extends ObjectLiteral {
  streamId: string;
  streamPosition: number;
  name: string;
  deletedAt: Date | null;
}

export interface NamedPage<TView> {
  readonly items: TView[];
  readonly nextCursor: string | null;
}

// What every named read model answers: one by name, a keyset page by name, and read-your-writes.
export abstract class NamedViewQuery<TView extends NamedView> {
  protected constructor(
    protected readonly dataSource: DataSource,
    private readonly entity: EntityTarget<TView>,
  ) {}

  async findByName(name: string): Promise<TView | null> {
    const row = await this.dataSource.getRepository(this.entity).findOneBy({ name } as never);
    return row && !row.deletedAt ? row : null;
  }

  // Keyset pagination by name: constant cost at any depth. `narrow` adds a query's own filters.
  async list(
    limit: number,
    after: string | null,
    narrow?: (query: SelectQueryBuilder<TView>) => void,
  ): Promise<NamedPage<TView>> {
    const query = this.dataSource
      .getRepository(this.entity)
      .createQueryBuilder('v')
      .where('v.deleted_at is null')
      .orderBy('v.name', 'ASC')
      .limit(limit + 1);
    if (after !== null) query.andWhere('v.name > :after', { after });
    narrow?.(query);
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.name : null };
  }

  // Read-your-writes: a command's answer names the stream position it produced; wait until the
  // read model has applied it, so a create followed by a read never sees a 404.
  waitForPosition(streamId: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, this.entity, streamId, position, timeoutMs);
  }
}

// Waits until a stream-mirroring read model's row for `streamId` has applied `position`.
export async function waitForStreamPosition(
  dataSource: DataSource,
  entity: EntityTarget<ObjectLiteral>,
  streamId: string,
  position: number,
  timeoutMs: number,
): Promise<boolean> {
  // Looked at again whenever a consumer (the projector) commits, not on a timer.
  const reached = await waitForChange(
    PgNotifications.of(dataSource),
    [NOTIFY_CHANNELS.consumed],
    async () => (await streamPositionOf(dataSource, entity, streamId)) >= position,
    timeoutMs,
  );
  return reached === true;
}

// Every command of every API waits here for its write (readBack), and each waiting read looks
// again at every projector commit: with many in flight (a burst of cancels, say) that was a
// statement per waiter per commit. The looks at one read model's rows that arrive while one runs
// share the next statement (a lone look goes at once); a stream without a row is at position 0.
type PositionLook = (streamId: string) => Promise<number>;
const positionLooks = new WeakMap<DataSource, Map<string, PositionLook>>();

function streamPositionOf(
  dataSource: DataSource,
  entity: EntityTarget<ObjectLiteral>,
  streamId: string,
): Promise<number> {
  const table = dataSource.getMetadata(entity).tablePath;
  let looks = positionLooks.get(dataSource);
  if (!looks) positionLooks.set(dataSource, (looks = new Map<string, PositionLook>()));
  let look = looks.get(table);
  if (!look) {
    look = groupedReads<string, number>(async (streamIds) => {
      const rows: { stream_id: string; stream_position: number }[] = await dataSource.query(
        `select stream_id, stream_position from ${table} where stream_id = any($1::text[])`,
        [streamIds],
      );
      return new Map(rows.map((row) => [row.stream_id, Number(row.stream_position)]));
    }, 0);
    looks.set(table, look);
  }
  return look(streamId);
}
