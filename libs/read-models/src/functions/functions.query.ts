import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { waitForStreamPosition } from '../wait-for-position';
import { FunctionView } from './function.view';

@Injectable()
export class FunctionsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async findByName(name: string): Promise<FunctionView | null> {
    const row = await this.dataSource.getRepository(FunctionView).findOneBy({ name });
    return row && !row.deletedAt ? row : null;
  }

  // Names of live functions that run the given artifact.
  async usingArtifact(artifact: string, limit = 10): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(FunctionView)
      .createQueryBuilder('f')
      .select('f.name', 'name')
      .where('f.artifact = :artifact and f.deleted_at is null', { artifact })
      .orderBy('f.name')
      .limit(limit)
      .getRawMany<{ name: string }>();
    return rows.map((r) => r.name);
  }

  // Keyset pagination by name, optionally only functions carrying a tag.
  async list(
    limit: number,
    after: string | null,
    tag?: string,
  ): Promise<{ items: FunctionView[]; nextCursor: string | null }> {
    const query = this.dataSource
      .getRepository(FunctionView)
      .createQueryBuilder('f')
      .where('f.deleted_at is null')
      .orderBy('f.name', 'ASC')
      .limit(limit + 1);
    if (after !== null) query.andWhere('f.name > :after', { after });
    if (tag !== undefined) query.andWhere('f.tags @> :tag::jsonb', { tag: JSON.stringify([tag]) });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.name : null };
  }

  waitForPosition(streamId: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, FunctionView, streamId, position, timeoutMs);
  }
}
