import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { workerStreamId } from '@spindle/contracts';
import type { WorkerState } from '@spindle/contracts';
import { waitForStreamPosition } from '../named-view.query';
import type { NamedPage } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { HostView, WorkerView } from './worker.view';

@Injectable()
export class WorkersQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  findById(id: string): Promise<WorkerView | null> {
    return this.dataSource.getRepository(WorkerView).findOneBy({ id });
  }

  // Newest first (ids are UUIDv7), keyset by id.
  async list(
    limit: number,
    after: string | null,
    filter: { states?: readonly WorkerState[]; context?: string } = {},
  ): Promise<NamedPage<WorkerView>> {
    const query = this.dataSource
      .getRepository(WorkerView)
      .createQueryBuilder('w')
      .orderBy('w.id', 'DESC')
      .limit(limit + 1);
    if (after !== null) query.andWhere('w.id < :after', { after });
    if (filter.states?.length) query.andWhere('w.state in (:...states)', { states: filter.states });
    if (filter.context !== undefined) query.andWhere('w.context = :context', { context: filter.context });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
  }

  async hosts(ids: readonly string[]): Promise<Map<string, HostView>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource
      .getRepository(HostView)
      .createQueryBuilder('h')
      .where('h.id in (:...ids)', { ids: [...new Set(ids)] })
      .getMany();
    return new Map(rows.map((h) => [h.id, h]));
  }

  waitForPosition(id: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, WorkerView, workerStreamId(id), position, timeoutMs);
  }
}
