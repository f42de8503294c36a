import { Inject, Injectable } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { z } from 'zod';
import { commandFailed, isMapReduceJobEvent, isServiceJobEvent } from '@spindle/contracts';
import type { CommandResult, MessageMetadata, SpindleEvent } from '@spindle/contracts';
import {
  CommandEngine,
  NOTIFY_CHANNELS,
  PgNotifications,
  commandFor,
  idempotencyOf,
  parseOutboxNotice,
  runStatements,
} from '@spindle/backbone';
import type {
  BoundCommand,
  CommandEntity,
  GroupCommit,
  GroupCommitOptions,
  Idempotency,
  OutboxRelay,
  PostgresEventStore,
  Preparation,
} from '@spindle/backbone';
import { dispatchStatements } from './dispatch/dispatch-state';
import { applyServiceJobState } from './service-jobs/supervise/service-job-state';
import { applyMapReduceJobState } from './mapreduce/supervise/mapreduce-job-state';
import {
  SCHEDULER_CONNECTION,
  SCHEDULER_EVENT_STORE,
  SCHEDULER_OUTBOX_RELAY,
  SCHEDULER_SCHEMA,
} from './scheduler.tokens';

interface Issued {
  readonly correlationId: string;
  readonly issuedAt: string;
  readonly idempotencyKey?: string;
  readonly expectedVersion?: number;
}

export interface ExecuteOptions<TCommand> {
  // Shapes the validated payload into the decider's command (default: `{kind, ...payload}`).
  readonly toCommand?: (payload: never) => Promise<TCommand | CommandResult> | TCommand | CommandResult;
  // Payload fields that differ between honest retries (a server-chosen id) and so are left out
  // when deciding whether a reused Idempotency-Key names the same request.
  readonly fingerprintOmits?: readonly string[];
}

// Runs commands against the scheduler's streams through the backbone's CommandEngine. Client
// commands arrive from another process and are validated here, at the edge, before a decision
// sees them; the scheduler's own (dispatch, agent reports) are trusted values. Every append also
// updates the dispatch state in the same transaction, and wakes the outbox relay and the dispatcher;
// another scheduler's commits (Postgres notifies the outbox rows they add) wake the listeners too.
@Injectable()
export class SchedulerCommandsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly listeners: ((appended: readonly SpindleEvent[] | undefined) => void)[] = [];
  private readonly engine: CommandEngine;
  private stopListening: (() => void) | undefined;

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SCHEDULER_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(SCHEDULER_OUTBOX_RELAY) private readonly relay: OutboxRelay,
  ) {
    this.engine = new CommandEngine(dataSource, store, {
      // The first dispatch statement rides in the append's own (a submit batch's insert into its
      // queue: no round trip of its own, and no transaction for a batch of plain submits); the
      // rest after it, in order, and the service jobs' and MapReduce jobs' state.
      stateOf: (appended) => {
        const [riding, ...rest] = dispatchStatements(appended);
        const more = rest.length > 0 || appended.some((e) => isServiceJobEvent(e) || isMapReduceJobEvent(e));
        return {
          riding,
          ...(more
            ? {
                after: async (manager: EntityManager) => {
                  await runStatements(manager, rest);
                  await applyServiceJobState(manager, appended);
                  await applyMapReduceJobState(manager, appended);
                },
              }
            : {}),
        };
      },
      onCommitted: (appended) => this.committed(appended),
    });
  }

  // Another scheduler (process or application) appended: its events are not known here, so the
  // listeners take it as anything. This one's own commits were announced in-process already.
  async onApplicationBootstrap(): Promise<void> {
    this.stopListening = await PgNotifications.of(this.dataSource).on(NOTIFY_CHANNELS.outbox, (payload) => {
      const { schema, appender } = parseOutboxNotice(payload);
      if (schema === '' || (schema === SCHEDULER_SCHEMA && appender !== this.store.appender))
        for (const listener of this.listeners) listener(undefined);
    });
  }

  beforeApplicationShutdown(): void {
    this.stopListening?.();
  }

  // Called after every committed change (the dispatcher listens, to react at once), with the events
  // it appended; undefined when they are not known (a transaction a caller committed), which a
  // listener takes as anything.
  onCommitted(listener: (appended: readonly SpindleEvent[] | undefined) => void): void {
    this.listeners.push(listener);
  }

  async execute<TCommand extends { kind: string }, TState>(
    entity: CommandEntity<TCommand, TState>,
    kind: TCommand['kind'],
    schema: z.ZodType<Issued>,
    payload: unknown,
    options: ExecuteOptions<TCommand> = {},
  ): Promise<CommandResult> {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return commandFailed('invalid', issue?.message ?? 'invalid command', issue?.path.join('.'));
    }
    const { correlationId, issuedAt, idempotencyKey, expectedVersion, ...request } = parsed.data as Issued &
      Record<string, unknown>;
    const shaped = options.toCommand
      ? await options.toCommand(parsed.data as never)
      : ({ kind, ...request } as unknown as TCommand);
    if ('ok' in shaped) return shaped;
    const idempotency = idempotencyOf(entity.topic, kind, idempotencyKey, request, options.fingerprintOmits);
    return this.engine.run(
      commandFor(
        entity,
        shaped,
        { correlationId, causationId: null },
        new Date(issuedAt),
        idempotency,
        expectedVersion,
      ),
    );
  }

  // After a commit made outside the engine's own transactions (a consumer's): wake the relay and
  // the dispatcher.
  committed(appended?: readonly SpindleEvent[]): void {
    this.relay.wake();
    for (const listener of this.listeners) listener(appended);
  }

  // Many commands in one transaction (the caller's, if given), each answered as it would have been
  // alone; see CommandEngine.
  runMany(batch: readonly BoundCommand[], within?: EntityManager): Promise<CommandResult[]> {
    return this.engine.runMany(batch, within);
  }

  run<TCommand extends { kind: string }, TState>(
    entity: CommandEntity<TCommand, TState>,
    command: TCommand,
    metadata: MessageMetadata,
    now = new Date(),
    idempotency?: Idempotency,
  ): Promise<CommandResult> {
    return this.engine.run(commandFor(entity, command, metadata, now, idempotency));
  }

  // Commands that come one at a time, decided and recorded many per transaction (the job intake).
  groupCommit(
    options: GroupCommitOptions & { readonly preparation?: Preparation },
  ): GroupCommit<BoundCommand, CommandResult> {
    return this.engine.groupCommit(options);
  }
}
