import { Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { reduce } from '@spindle/contracts';
import type { MapResult } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS, LeadingLoop, NOTIFY_CHANNELS, PgNotifications } from '@spindle/backbone';
import {
  EventReductionView,
  EventResultView,
  EventResultsHeadView,
  PROJECTOR_CONNECTION,
  PROJECTOR_SCHEMA,
  READ_MODEL_SOURCES,
} from '@spindle/read-models';
import { EventRulesInForce, appendEventResults } from './event-results-log';
import type { NewEventResult } from './event-results-log';

// A pass runs when the cluster-config projection commits (new rules: a new reduction starts its
// first period; Postgres notifies it from whichever projector projected them) and when the next
// period ends; with neither, this often anyway.
const TICK_MS = 10_000;

// The reduce half of Genvid's events results log: at the end of each reduction's period, the map
// results of its source that were appended during the period are reduced per key, and the results
// appended to the log. Where each reduction is (its period's start, the last counter it took) is
// kept in `event_reductions_v1` and moves in the transaction that appends, so a period is reduced
// once, and one that spans a restart (or a change of leader) is reduced when it is next looked at.
// Changed rules start every period afresh. One pass runs at a time in the whole installation: each
// is one transaction that first takes a transaction-level advisory lock (or skips), so no
// connection of the projector's small pool is held for leadership between passes.
@Injectable()
export class EventReductions implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('projector:event-reductions');
  private readonly loop = new LeadingLoop(() => this.pass(), TICK_MS, this.logger, 'event reduction');
  private readonly rules = new EventRulesInForce();

  private reducing = true; // until a pass finds no reduction defined and no period kept

  constructor(@InjectDataSource(PROJECTOR_CONNECTION) private readonly dataSource: DataSource) {}

  private stopListening: (() => void) | undefined;

  async onApplicationBootstrap(): Promise<void> {
    this.loop.start();
    this.stopListening = await PgNotifications.of(this.dataSource).on(
      NOTIFY_CHANNELS.consumed,
      (consumer) => {
        if (consumer === READ_MODEL_SOURCES.clusterConfig.consumer || consumer === '') this.loop.wake();
      },
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopListening?.();
    await this.loop.stop();
  }

  // Reduces every period that ended; answers when the next one ends.
  private async pass(): Promise<number | null> {
    // Idle (no reduction defined), a pass is one primary-key read of the rules.
    const idle = (await this.rules.read(this.dataSource.manager)).rules.reductions.length === 0;
    if (idle && !this.reducing) return null;
    return this.dataSource.transaction(async (manager) => {
      const [lock] = await manager.query<{ taken: boolean }[]>(
        'select pg_try_advisory_xact_lock($1, 0) as taken',
        [ADVISORY_LOCK_CLASS.eventReductions],
      );
      if (!lock?.taken) return null; // another projector is reducing right now
      return this.reduceDue(manager, new Date());
    });
  }

  private async reduceDue(manager: EntityManager, now: Date): Promise<number | null> {
    const { position, since, rules } = await this.rules.read(manager);
    this.reducing = rules.reductions.length > 0;
    const states = manager.getRepository(EventReductionView);
    const known = new Map(
      (await states.createQueryBuilder('r').setLock('pessimistic_write').getMany()).map((r) => [
        r.reductionId,
        r,
      ]),
    );
    const head = (await manager.getRepository(EventResultsHeadView).findOneBy({ id: 1 }))?.counter ?? 0;
    const results: NewEventResult[] = [];
    const changed: EventReductionView[] = [];
    let next: number | null = null;
    for (const reduction of rules.reductions) {
      const { id, source, period } = reduction.rule;
      const kept = known.get(id);
      known.delete(id);
      // Under rules new to it, a reduction's first period starts when the rules were recorded, after
      // the results appended before then: what was mapped under the new rules counts, even when it
      // was mapped before a pass noticed them.
      const state =
        kept?.rulesPosition === position
          ? kept
          : Object.assign(new EventReductionView(), {
              reductionId: id,
              rulesPosition: position,
              afterCounter: await resultsBefore(manager, since),
              windowFrom: since,
            });
      const ends = state.windowFrom.getTime() + period;
      if (ends > now.getTime()) {
        if (state !== kept) changed.push(state);
        next = Math.min(next ?? Infinity, ends);
        continue;
      }
      // Every map result up to the head has committed (appends commit in counter order).
      const taken = await manager
        .getRepository(EventResultView)
        .createQueryBuilder('r')
        .where('r.counter > :after and r.counter <= :head', { after: state.afterCounter, head })
        .andWhere(`r.result->>'type' = 'map' and r.result->>'id' = :source`, { source })
        .orderBy('r.counter', 'ASC')
        .getMany();
      const maps = taken.map((r) => r.result as MapResult);
      for (const result of reduce(reduction, maps, state.windowFrom.toISOString(), now.toISOString()))
        results.push({ result, dedup: null });
      changed.push(
        Object.assign(new EventReductionView(), {
          reductionId: id,
          rulesPosition: position,
          afterCounter: head,
          windowFrom: now,
        }),
      );
      next = Math.min(next ?? Infinity, now.getTime() + period);
    }
    await appendEventResults(manager, results);
    if (changed.length > 0) await states.save(changed);
    if (known.size > 0) await states.delete([...known.keys()]); // rules no longer defined
    return next;
  }
}

// The counter of the last result recorded before `time` (0: none).
async function resultsBefore(manager: EntityManager, time: Date): Promise<number> {
  const [row] = await manager.query<{ counter: string }[]>(
    `select coalesce(max(counter), 0) as counter from "${PROJECTOR_SCHEMA}".event_results_v1 where recorded_at < $1`,
    [time],
  );
  return Number(row?.counter ?? 0);
}
