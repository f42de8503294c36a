import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { waitForStreamPosition } from '../wait-for-position';
import { ContextView } from './context.view';

export interface ContextPage {
  readonly items: ContextView[];
  readonly nextCursor: string | null;
}

@Injectable()
export class ContextsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async findByName(name: string): Promise<ContextView | null> {
    const row = await this.dataSource.getRepository(ContextView).findOneBy({ name });
    return row && !row.deletedAt ? row : null;
  }

  // Keyset pagination by name: constant cost at any depth.
  async list(limit: number, after: string | null): Promise<ContextPage> {
    const query = this.dataSource
      .getRepository(ContextView)
      .createQueryBuilder('c')
      .where('c.deleted_at is null')
      .orderBy('c.name', 'ASC')
      .limit(limit + 1);
    if (after !== null) query.andWhere('c.name > :after', { after });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.name : null };
  }

  waitForPosition(streamId: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, ContextView, streamId, position, timeoutMs);
  }
}
