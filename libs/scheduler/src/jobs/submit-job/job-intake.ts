import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { commandFailed, functionStreamId, jobStreamId } from '@spindle/contracts';
import type { CommandResult, SubmitJobCommand } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS, isCommandError } from '@spindle/backbone';
import type { PostgresEventStore, StreamAppend } from '@spindle/backbone';
import { applyDispatchState } from '../../dispatch/dispatch-state';
import { functionDecider } from '../../functions/domain/function.decider';
import type { FunctionState } from '../../functions/domain/function.decider';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import type { Idempotency } from '../../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_EVENT_STORE, SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { jobCommands } from '../domain/job.decider';
import { shapeSubmit } from './submit-job.shape';

interface Pending {
  readonly command: SubmitJobCommand;
  readonly idempotency: Idempotency | undefined;
  readonly resolve: (result: CommandResult) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
// One batch commits while the next one gathers: a lone submit goes at once, and under load the
// submits that arrive during a commit share the next one (group commit).
const MAX_IN_FLIGHT = 2;
const SINGLE_ATTEMPTS = 5;

// Accepts submitted jobs into their queues, many per transaction: every submit waiting when a
// transaction starts is decided and appended in it, with one statement per table for the whole
// batch. Each submit gets the answer it would have had alone: the same decider, the same checks,
// the same idempotency rules. A batch that fails as a whole (a concurrent twin, a lost stream
// race) is retried one submit per transaction, so one bad submit never fails the others.
@Injectable()
export class JobIntake {
  private readonly logger = new Logger('job-intake');
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SCHEDULER_EVENT_STORE) private readonly store: PostgresEventStore,
    private readonly commands: SchedulerCommandsService,
  ) {}

  submit(command: SubmitJobCommand, idempotency: Idempotency | undefined): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ command, idempotency, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: readonly Pending[]): Promise<void> {
    try {
      const results = await this.dataSource.transaction((manager) => this.decideAll(manager, batch));
      this.commands.committed();
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (e) {
      if (batch.length > 1)
        this.logger.warn(`a batch of ${batch.length} submits failed (${messageOf(e)}); one by one`);
      for (const pending of batch) await this.single(pending);
    }
  }

  private async single(pending: Pending): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await this.dataSource.transaction((manager) => this.decideAll(manager, [pending]));
        this.commands.committed();
        return pending.resolve(result!);
      } catch (e) {
        // A twin with the same key or id committed meanwhile: deciding again sees what it did.
        if (attempt < SINGLE_ATTEMPTS && isRetriable(e)) continue;
        return pending.reject(e);
      }
    }
  }

  private async decideAll(manager: EntityManager, batch: readonly Pending[]): Promise<CommandResult[]> {
    const results: (CommandResult | undefined)[] = batch.map(() => undefined);
    // Same key: the first answer again. The locks queue twins, here and in other processes.
    const keys = [...new Set(batch.flatMap((p) => (p.idempotency ? [p.idempotency.key] : [])))].sort();
    if (keys.length > 0) {
      await manager.query(
        'select pg_advisory_xact_lock($1, hashtext(k)) from unnest($2::text[]) as k order by k',
        [ADVISORY_LOCK_CLASS.idempotencyKey, keys],
      );
    }
    const earlier = await this.store.findIdempotentMany(manager, keys);
    const firstWithKey = new Map<string, number>();
    const refs = await this.references(manager, batch);

    const appends: StreamAppend[] = [];
    const appendOf: number[] = [];
    batch.forEach((pending, i) => {
      const { command, idempotency } = pending;
      if (idempotency) {
        const seen = earlier.get(idempotency.key);
        const twin = firstWithKey.get(idempotency.key);
        const fingerprint =
          seen?.fingerprint ?? (twin === undefined ? undefined : batch[twin]!.idempotency!.fingerprint);
        if (fingerprint !== undefined && fingerprint !== idempotency.fingerprint) {
          results[i] = commandFailed(
            'invalid',
            'this Idempotency-Key was used with a different request',
            'Idempotency-Key',
          );
          return;
        }
        if (seen) {
          results[i] = seen.result as CommandResult;
          return;
        }
        if (twin !== undefined) return; // answered with its twin's result below
        firstWithKey.set(idempotency.key, i);
      }
      const shaped = shapeSubmit(command, {
        fn: refs.functions.get(command.function) ?? functionDecider.initialState,
        contextLive: (name) => refs.liveContexts.has(name),
      });
      if ('ok' in shaped) {
        results[i] = shaped;
        return;
      }
      const decision = jobCommands.decider.decide(shaped, jobCommands.decider.initialState);
      if (isCommandError(decision)) {
        results[i] = { ok: false, error: decision };
        return;
      }
      appendOf.push(i);
      appends.push({
        streamId: jobStreamId(command.id),
        expectedPosition: 0,
        events: decision,
        topic: jobCommands.topic,
        metadata: { correlationId: command.correlationId, causationId: null },
        occurredAt: new Date(command.issuedAt),
      });
    });

    const appended = await this.store.appendMany(manager, appends);
    await applyDispatchState(manager, appended.flat());
    const remembered: { key: string; fingerprint: string; result: unknown }[] = [];
    appended.forEach((events, k) => {
      const i = appendOf[k]!;
      const result: CommandResult = {
        ok: true,
        streamId: appends[k]!.streamId,
        streamPosition: events.at(-1)!.streamPosition,
        events,
      };
      results[i] = result;
      const { idempotency } = batch[i]!;
      if (idempotency) remembered.push({ ...idempotency, result });
    });
    await this.store.rememberIdempotentMany(manager, remembered);
    // Twins within the batch get the answer of the first with their key.
    return batch.map((pending, i) => {
      const own = results[i];
      if (own) return own;
      const first = firstWithKey.get(pending.idempotency!.key)!;
      return results[first] ?? commandFailed('invalid', 'not decided');
    });
  }

  // The functions and contexts the batch names, read once for all of it.
  private async references(
    manager: EntityManager,
    batch: readonly Pending[],
  ): Promise<{ functions: Map<string, FunctionState>; liveContexts: Set<string> }> {
    const names = [...new Set(batch.map((p) => p.command.function))];
    const streams = await this.store.readStreams(manager, names.map(functionStreamId));
    const functions = new Map(
      names.map((name) => [
        name,
        (streams.get(functionStreamId(name)) ?? []).reduce(
          functionDecider.evolve,
          functionDecider.initialState,
        ),
      ]),
    );
    const contexts = [
      ...new Set(
        batch.map((p) => {
          const fn = functions.get(p.command.function);
          return p.command.context ?? (fn?.status === 'registered' ? fn.definition.defaultContext : '');
        }),
      ),
    ];
    const rows: { name: string }[] = await manager.query(
      `select name from "${SCHEDULER_SCHEMA}".dispatch_contexts where name = any($1::text[]) and not deleted`,
      [contexts],
    );
    return { functions, liveContexts: new Set(rows.map((r) => r.name)) };
  }
}

function isRetriable(e: unknown): boolean {
  const name = (e as { name?: unknown }).name;
  const code = (e as { code?: unknown }).code;
  return name === 'ConcurrencyError' || code === '23505';
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
