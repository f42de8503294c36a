import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { commandFailed } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { handleCommand } from '@spindle/backbone';
import type { Decider, OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import { SCHEDULER_CONNECTION, SCHEDULER_EVENT_STORE, SCHEDULER_OUTBOX_RELAY } from './scheduler.tokens';

// One kind of event-sourced entity of the scheduler: how it decides, where its events go.
export interface EntityCommands<TCommand extends { kind: string; name: string }, TState> {
  readonly decider: Decider<TCommand, TState>;
  readonly topic: string;
  streamIdOf(name: string): string;
}

interface Issued {
  readonly name: string;
  readonly correlationId: string;
  readonly issuedAt: string;
  readonly idempotencyKey?: string;
}

// Runs a command against its stream. Payloads arrive from another process and are validated here,
// at the edge, before the decision sees them.
@Injectable()
export class SchedulerCommandsService {
  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SCHEDULER_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(SCHEDULER_OUTBOX_RELAY) private readonly relay: OutboxRelay,
  ) {}

  async execute<TCommand extends { kind: string; name: string }, TState>(
    entity: EntityCommands<TCommand, TState>,
    kind: TCommand['kind'],
    schema: z.ZodType<Issued>,
    payload: unknown,
  ): Promise<CommandResult> {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return commandFailed('invalid', issue?.message ?? 'invalid command', issue?.path.join('.'));
    }
    const command = { kind, ...parsed.data } as unknown as TCommand & Issued;
    const { correlationId: _c, issuedAt: _i, idempotencyKey, ...request } = command;
    const idempotency = idempotencyKey
      ? {
          key: `${entity.topic}:${kind}:${idempotencyKey}`,
          fingerprint: createHash('sha256').update(JSON.stringify(request)).digest('hex'),
        }
      : undefined;
    return handleCommand({
      dataSource: this.dataSource,
      store: this.store,
      decider: entity.decider,
      streamId: entity.streamIdOf(command.name),
      topic: entity.topic,
      command,
      metadata: { correlationId: command.correlationId, causationId: null },
      now: new Date(command.issuedAt),
      onCommitted: () => this.relay.wake(),
      idempotency,
    });
  }
}
