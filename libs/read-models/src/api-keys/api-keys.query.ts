import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { apiKeyStreamId } from '@spindle/contracts';
import { waitForStreamPosition } from '../named-view.query';
import type { NamedPage } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ApiKeyView } from './api-key.view';

@Injectable()
export class ApiKeysQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  findById(keyId: string): Promise<ApiKeyView | null> {
    return this.dataSource.getRepository(ApiKeyView).findOneBy({ keyId });
  }

  // A keyset page by key id, revoked keys included (their rows say so).
  async list(limit: number, after: string | null): Promise<NamedPage<ApiKeyView>> {
    const query = this.dataSource
      .getRepository(ApiKeyView)
      .createQueryBuilder('v')
      .orderBy('v.key_id', 'ASC')
      .limit(limit + 1);
    if (after !== null) query.where('v.key_id > :after', { after });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.keyId : null };
  }

  async any(): Promise<boolean> {
    return this.dataSource.getRepository(ApiKeyView).exists();
  }

  waitForPosition(keyId: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, ApiKeyView, apiKeyStreamId(keyId), position, timeoutMs);
  }
}
