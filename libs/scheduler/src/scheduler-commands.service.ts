import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { z } from 'zod';
import { commandFailed } from '@spindle/contracts';
import type { CommandResult, MessageMetadata, NewEvent, SpindleEvent } from '@spindle/contracts';
import { ConcurrencyError, handleCommand, isCommandError } from '@spindle/backbone';
import type { Decider, OutboxRelay, PostgresEventStore, StreamAppend } from '@spindle/backbone';
import { applyDispatchState } from './dispatch/dispatch-state';
import { SCHEDULER_CONNECTION, SCHEDULER_EVENT_STORE, SCHEDULER_OUTBOX_RELAY } from './scheduler.tokens';

// One kind of event-sourced entity of the scheduler: how it decides, where its events go.
export interface EntityCommands<TCommand extends { kind: string }, TState> {
  readonly decider: Decider<TCommand, TState>;
  readonly topic: string;
  streamIdOf(command: TCommand): string;
}

// One command of a batch, bound to the entity that decides it (see `commandFor`).
export interface BoundCommand {
  readonly streamId: string;
  readonly topic: string;
  readonly decider: Decider<unknown, unknown>;
  readonly command: { kind: string };
  readonly metadata: MessageMetadata;
  readonly now: Date;
}

export function commandFor<TCommand extends { kind: string }, TState>(
  entity: EntityCommands<TCommand, TState>,
  command: TCommand,
  metadata: MessageMetadata,
  now = new Date(),
): BoundCommand {
  return {
    streamId: entity.streamIdOf(command),
    topic: entity.topic,
    // The decider only ever sees commands and states of its own entity: runMany keeps them apart.
    decider: entity.decider as unknown as Decider<unknown, unknown>,
    command,
    metadata,
    now,
  };
}

// A whole batch is decided again on fresh streams this often before it falls back to one command
// per transaction.
const BATCH_ATTEMPTS = 3;
const MAX_BATCH = 500;

interface Issued {
  readonly correlationId: string;
  readonly issuedAt: string;
  readonly idempotencyKey?: string;
}

export interface ExecuteOptions<TCommand> {
  // Shapes the validated payload into the decider's command (default: `{kind, ...payload}`).
  readonly toCommand?: (payload: never) => Promise<TCommand | CommandResult> | TCommand | CommandResult;
  // Payload fields that differ between honest retries (a server-chosen id) and so are left out
  // when deciding whether a reused Idempotency-Key names the same request.
  readonly fingerprintOmits?: readonly string[];
}

// Runs commands against the scheduler's streams. Client commands arrive from another process and
// are validated here, at the edge, before a decision sees them; the scheduler's own (dispatch,
// agent reports) are trusted values. Every append also updates the dispatch state in the same
// transaction, and wakes the outbox relay and the dispatcher.
@Injectable()
export class SchedulerCommandsService {
  private readonly listeners: (() => void)[] = [];

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SCHEDULER_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(SCHEDULER_OUTBOX_RELAY) private readonly relay: OutboxRelay,
  ) {}

  // Called after every committed change (the dispatcher listens, to react at once).
  onCommitted(listener: () => void): void {
    this.listeners.push(listener);
  }

  async execute<TCommand extends { kind: string }, TState>(
    entity: EntityCommands<TCommand, TState>,
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
    const { correlationId, issuedAt, idempotencyKey, ...request } = parsed.data as Issued &
      Record<string, unknown>;
    const shaped = options.toCommand
      ? await options.toCommand(parsed.data as never)
      : ({ kind, ...request } as unknown as TCommand);
    if ('ok' in shaped) return shaped;
    const idempotency = idempotencyOf(entity.topic, kind, idempotencyKey, request, options.fingerprintOmits);
    return this.run(entity, shaped, { correlationId, causationId: null }, new Date(issuedAt), idempotency);
  }

  // For writers that append in batches of their own (the job intake): what run() does after a commit.
  committed(): void {
    this.relay.wake();
    for (const listener of this.listeners) listener();
  }

  // Reads of the scheduler's own tables, for its consumers.
  query<T>(sql: string, parameters: unknown[]): Promise<T> {
    return this.dataSource.query(sql, parameters);
  }

  // Many commands in one transaction: every stream they name read in one query, each command
  // decided in order on its stream's state (later commands on a stream see what earlier ones
  // decided), all events appended with their outbox rows and dispatch state in one go. Each
  // command gets the answer it would have had alone. A stream moved meanwhile fails the batch as
  // a whole: it is decided again on fresh state, and in the end run one command per transaction,
  // so a lost race is refused by its stream and never applied twice.
  async runMany(batch: readonly BoundCommand[]): Promise<CommandResult[]> {
    if (batch.length > MAX_BATCH) {
      // In order, so what a command needs (a worker for its job) commits first or with it.
      const results: CommandResult[] = [];
      for (let i = 0; i < batch.length; i += MAX_BATCH)
        results.push(...(await this.runMany(batch.slice(i, i + MAX_BATCH))));
      return results;
    }
    if (batch.length > 1) {
      for (let attempt = 1; attempt <= BATCH_ATTEMPTS; attempt++) {
        try {
          const { results, appended } = await this.dataSource.transaction((manager) =>
            this.decideAll(manager, batch),
          );
          if (appended > 0) this.committed();
          return results;
        } catch (e) {
          if (!isRetriable(e)) break;
        }
      }
    }
    const results: CommandResult[] = [];
    for (const bound of batch) results.push(await this.runBound(bound));
    return results;
  }

  private async decideAll(
    manager: EntityManager,
    batch: readonly BoundCommand[],
  ): Promise<{ results: CommandResult[]; appended: number }> {
    const histories = await this.store.readStreams(manager, [...new Set(batch.map((c) => c.streamId))]);
    const streams = new Map<string, { state: unknown; position: number }>();
    const results: CommandResult[] = [];
    const appends: StreamAppend[] = [];
    const appendOf: number[] = [];
    batch.forEach((bound, i) => {
      const { streamId, decider } = bound;
      let stream = streams.get(streamId);
      if (!stream) {
        const history = histories.get(streamId) ?? [];
        stream = {
          state: history.reduce(decider.evolve, decider.initialState),
          position: history.at(-1)?.streamPosition ?? 0,
        };
        streams.set(streamId, stream);
      }
      const decision = decider.decide(bound.command, stream.state);
      if (isCommandError(decision)) {
        results[i] = { ok: false, error: decision };
        return;
      }
      results[i] = { ok: true, streamId, streamPosition: stream.position };
      if (decision.length === 0) return;
      appendOf.push(i);
      appends.push({
        streamId,
        expectedPosition: stream.position,
        events: decision,
        topic: bound.topic,
        metadata: bound.metadata,
        occurredAt: bound.now,
      });
      // What the next command on this stream decides on.
      for (const event of decision)
        stream.state = decider.evolve(stream.state, provisional(bound, event, ++stream.position));
    });
    const appended = await this.store.appendMany(manager, appends);
    await applyDispatchState(manager, appended.flat());
    appended.forEach((events, k) => {
      results[appendOf[k]!] = {
        ok: true,
        streamId: appends[k]!.streamId,
        streamPosition: events.at(-1)!.streamPosition,
        events,
      };
    });
    return { results, appended: appends.length };
  }

  private runBound(bound: BoundCommand): Promise<CommandResult> {
    return handleCommand({
      dataSource: this.dataSource,
      store: this.store,
      decider: bound.decider,
      streamId: bound.streamId,
      topic: bound.topic,
      command: bound.command,
      metadata: bound.metadata,
      now: bound.now,
      afterAppend: applyDispatchState,
      onCommitted: () => this.committed(),
    });
  }

  run<TCommand extends { kind: string }, TState>(
    entity: EntityCommands<TCommand, TState>,
    command: TCommand,
    metadata: MessageMetadata,
    now = new Date(),
    idempotency?: Idempotency,
  ): Promise<CommandResult> {
    return handleCommand({
      dataSource: this.dataSource,
      store: this.store,
      decider: entity.decider,
      streamId: entity.streamIdOf(command),
      topic: entity.topic,
      command,
      metadata,
      now,
      afterAppend: applyDispatchState,
      onCommitted: () => this.committed(),
      idempotency,
    });
  }
}

// An event decided but not yet appended, as the decider's evolve reads it.
function provisional(bound: BoundCommand, event: NewEvent, streamPosition: number): SpindleEvent {
  return {
    id: '',
    ...event,
    streamId: bound.streamId,
    streamPosition,
    occurredAt: bound.now.toISOString(),
    correlationId: bound.metadata.correlationId,
    causationId: bound.metadata.causationId,
  };
}

// A concurrent append (a stream moved, a stream claimed twice, two batches locking each other):
// deciding again on fresh state may succeed.
function isRetriable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return e instanceof ConcurrencyError || code === '23505' || code === '40P01';
}

export interface Idempotency {
  readonly key: string;
  readonly fingerprint: string;
}

// A client's Idempotency-Key, scoped to the entity and command kind, with a fingerprint of the
// request: the same key with another request is refused, not answered with the first result.
// Fields that differ between honest retries (a server-drawn id) are left out of the fingerprint.
export function idempotencyOf(
  topic: string,
  kind: string,
  clientKey: string | undefined,
  request: Record<string, unknown>,
  omits: readonly string[] = [],
): Idempotency | undefined {
  if (!clientKey) return undefined;
  const fingerprinted = Object.fromEntries(Object.entries(request).filter(([k]) => !omits.includes(k)));
  return {
    key: `${topic}:${kind}:${clientKey}`,
    fingerprint: createHash('sha256').update(JSON.stringify(fingerprinted)).digest('hex'),
  };
}
