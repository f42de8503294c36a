import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { MapResult, ReduceResult } from '@spindle/contracts';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { EventResultView, EventResultsHeadView } from './event-result.view';

export type EventResult = (MapResult | ReduceResult) & { readonly counter: number };

// The log keeps its newest results up to this many; a reader further behind misses the oldest.
export const MAX_EVENT_RESULTS = 10_000;

@Injectable()
export class EventResultsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  // Every result after `counter`, and the counter at the end of the log, from one snapshot. A
  // counter past the end (a client of another installation, or of a database started afresh)
  // reads the log from its start.
  after(counter: number): Promise<{ counter: number; messages: EventResult[] }> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const head = await manager.getRepository(EventResultsHeadView).findOneBy({ id: 1 });
      const end = head?.counter ?? 0;
      const rows = await manager
        .getRepository(EventResultView)
        .createQueryBuilder('r')
        .where('r.counter > :from', { from: counter > end ? 0 : counter })
        .orderBy('r.counter', 'ASC')
        .limit(MAX_EVENT_RESULTS)
        .getMany();
      return { counter: end, messages: rows.map((r) => ({ ...r.result, counter: r.counter })) };
    });
  }
}
