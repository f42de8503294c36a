import type { DataSource, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { NOTIFY_CHANNELS, PgNotifications, waitForChange } from '@spindle/backbone';

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

// Polls a stream-mirroring read model until its row for `streamId` has applied `position`.
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
    async () => {
      const row = await dataSource
        .getRepository(entity)
        .createQueryBuilder('v')
        .select('v.stream_position', 'position')
        .where('v.stream_id = :streamId', { streamId })
        .getRawOne<{ position: number }>();
      return (row?.position ?? 0) >= position;
    },
    timeoutMs,
  );
  return reached === true;
}
