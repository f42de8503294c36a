import type { EntityManager } from 'typeorm';
import { EVENT_RULES_STREAM_ID, compileRules, eventRulesSchema } from '@spindle/contracts';
import type { CompiledRules, MapResult, ReduceResult } from '@spindle/contracts';
import { ClusterConfigView, MAX_EVENT_RESULTS, PROJECTOR_SCHEMA } from '@spindle/read-models';

const s = `"${PROJECTOR_SCHEMA}"`;

export interface NewEventResult {
  readonly result: MapResult | ReduceResult;
  readonly dedup: string | null; // null: nothing to recognise it by (a reduction's own cursor says)
}

// Appends results at the end of the log, in the caller's transaction. The head row is locked until
// that transaction commits, so appends commit one after the other in counter order: a reader never
// sees counter N before everything below it. A result whose dedup key is there already is left
// out (under the lock nobody else can be adding it). Keeps the newest MAX_EVENT_RESULTS.
export async function appendEventResults(
  manager: EntityManager,
  results: readonly NewEventResult[],
): Promise<void> {
  if (results.length === 0) return;
  const [head] = await manager.query<{ counter: string }[]>(
    `select counter from ${s}.event_results_head_v1 where id = 1 for update`,
  );
  const keys = results.flatMap((r) => (r.dedup === null ? [] : [r.dedup]));
  const seen = new Set(
    keys.length === 0
      ? []
      : (
          await manager.query<{ dedup: string }[]>(
            `select dedup from ${s}.event_results_v1 where dedup = any($1::text[])`,
            [keys],
          )
        ).map((r) => r.dedup),
  );
  const fresh = results.filter((r) => r.dedup === null || !seen.has(r.dedup));
  if (fresh.length === 0) return;
  const end = Number(head?.counter ?? 0) + fresh.length;
  await manager.query(
    `insert into ${s}.event_results_v1 (counter, dedup, result)
     select $1::bigint + e.n, e.v->>'dedup', e.v->'result'
     from jsonb_array_elements($2::jsonb) with ordinality as e(v, n)`,
    [head?.counter ?? 0, JSON.stringify(fresh)],
  );
  await manager.query(`update ${s}.event_results_head_v1 set counter = $1 where id = 1`, [end]);
  await manager.query(`delete from ${s}.event_results_v1 where counter <= $1`, [end - MAX_EVENT_RESULTS]);
}

// The event rules in force (the cluster-config read model's event-rules row) and when they were
// recorded, compiled once per stream position.
export class EventRulesInForce {
  private cached: { position: number; since: Date; rules: CompiledRules } | undefined;

  async read(manager: EntityManager): Promise<{ position: number; since: Date; rules: CompiledRules }> {
    const row = await manager.getRepository(ClusterConfigView).findOneBy({ streamId: EVENT_RULES_STREAM_ID });
    const position = row?.streamPosition ?? 0;
    if (this.cached?.position !== position)
      this.cached = {
        position,
        since: row?.updatedAt ?? new Date(0),
        rules: compileRules(row ? eventRulesSchema.parse(row.document) : []),
      };
    return this.cached;
  }
}
