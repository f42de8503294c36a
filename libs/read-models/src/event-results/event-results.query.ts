import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { MapResult, ReduceResult } from '@spindle/contracts';
import { PROJECTOR_SCHEMA, READ_MODELS_CONNECTION } from '../read-models.tokens';
import { EventResultView, EventResultsHeadView } from './event-result.view';

export type EventResult = (MapResult | ReduceResult) & { readonly counter: number };

// The log keeps its newest results up to this many; a reader further behind misses the oldest.
export const MAX_EVENT_RESULTS = 10_000;

const s = `"${PROJECTOR_SCHEMA}"`;

@Injectable()
export class EventResultsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  // Every result after `counter`, and the counter at the end of the log. As Genvid's, the log
  // resets when no request came for `resetAfterMs`: a request after such a spell first hides what
  // was recorded up to the moment the spell reached that length (what came later stays; counters
  // go on growing). A counter past the end (a client of another installation, or of a database
  // started afresh) reads the log from its start (or its last reset).
  async after(counter: number, resetAfterMs: number): Promise<{ counter: number; messages: EventResult[] }> {
    const from = await this.read(resetAfterMs);
    // One snapshot: the head, and the rows up to it.
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const head = await manager.getRepository(EventResultsHeadView).findOneBy({ id: 1 });
      const end = head?.counter ?? 0;
      const rows = await manager
        .getRepository(EventResultView)
        .createQueryBuilder('r')
        .where('r.counter > :from', { from: Math.max(counter > end ? 0 : counter, from) })
        .orderBy('r.counter', 'ASC')
        .limit(MAX_EVENT_RESULTS)
        .getMany();
      return { counter: end, messages: rows.map((r) => ({ ...r.result, counter: r.counter })) };
    });
  }

  // Records this request (the installation's last, in Postgres: every gateway process answers the
  // same) and answers the counter the log's last reset hides results up to, resetting it first if
  // the spell since the request before reached `resetAfterMs` (a log never read: any time).
  private async read(resetAfterMs: number): Promise<number> {
    // A select around the update: TypeORM answers a bare UPDATE ... RETURNING as [rows, count].
    const [row] = await this.dataSource.query<{ reset_counter: string }[]>(
      `with spell as (select $1::int * interval '1 millisecond' as length),
       before as (
         select case
             when r.last_read_at is null then now() - spell.length
             when r.last_read_at < now() - spell.length then r.last_read_at + spell.length
           end as reset_at
         from ${s}.event_results_reads_v1 r, spell
         where r.id = 1
         for update of r
       ),
       updated as (
         update ${s}.event_results_reads_v1 r
         set last_read_at = now(),
             reset_counter = case
               when before.reset_at is null then r.reset_counter
               else greatest(r.reset_counter, (
                 select coalesce(max(counter), 0) from ${s}.event_results_v1 where recorded_at <= before.reset_at))
             end
         from before
         where r.id = 1
         returning r.reset_counter
       )
       select reset_counter from updated`,
      [resetAfterMs],
    );
    return Number(row?.reset_counter ?? 0);
  }
}
