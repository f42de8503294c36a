import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { commandFailed } from '@spindle/contracts';
import type { CommandResult, MessageMetadata } from '@spindle/contracts';
import { handleCommand } from '@spindle/backbone';
import type { Decider, OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import { applyDispatchState } from './dispatch/dispatch-state';
import { SCHEDULER_CONNECTION, SCHEDULER_EVENT_STORE, SCHEDULER_OUTBOX_RELAY } from './scheduler.tokens';

// One kind of event-sourced entity of the scheduler: how it decides, where its events go.
export interface EntityCommands<TCommand extends { kind: string }, TState> {
  readonly decider: Decider<TCommand, TState>;
  readonly topic: string;
  streamIdOf(command: TCommand): string;
}

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
