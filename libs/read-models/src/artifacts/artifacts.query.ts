import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { waitForStreamPosition } from '../wait-for-position';
import { ArtifactView } from './artifact.view';

@Injectable()
export class ArtifactsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async findByName(name: string): Promise<ArtifactView | null> {
    const row = await this.dataSource.getRepository(ArtifactView).findOneBy({ name });
    return row && !row.deletedAt ? row : null;
  }

  // Keyset pagination by name.
  async list(
    limit: number,
    after: string | null,
  ): Promise<{ items: ArtifactView[]; nextCursor: string | null }> {
    const query = this.dataSource
      .getRepository(ArtifactView)
      .createQueryBuilder('a')
      .where('a.deleted_at is null')
      .orderBy('a.name', 'ASC')
      .limit(limit + 1);
    if (after !== null) query.andWhere('a.name > :after', { after });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.name : null };
  }

  waitForPosition(streamId: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, ArtifactView, streamId, position, timeoutMs);
  }
}
