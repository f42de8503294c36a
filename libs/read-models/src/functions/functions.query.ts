import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import type { NamedPage } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { FunctionView } from './function.view';

@Injectable()
export class FunctionsQuery extends NamedViewQuery<FunctionView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, FunctionView);
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

  // Optionally only functions carrying a tag.
  listTagged(limit: number, after: string | null, tag?: string): Promise<NamedPage<FunctionView>> {
    return this.list(limit, after, (query) => {
      if (tag !== undefined) query.andWhere('v.tags @> :tag::jsonb', { tag: JSON.stringify([tag]) });
    });
  }
}
