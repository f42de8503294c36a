import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
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

  // Read-your-writes: a command's answer names the stream position it produced; wait until the
  // read model has applied it, so a create followed by a read never sees a 404.
  async waitForPosition(streamId: string, position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      const rows: { stream_position: number }[] = await this.dataSource.query(
        `select stream_position from ${this.dataSource.getMetadata(ContextView).tablePath} where stream_id = $1`,
        [streamId],
      );
      if ((rows[0]?.stream_position ?? 0) >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
}
