import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EventTopics, commandFailed, contextStreamId } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { handleCommand } from '@spindle/backbone';
import type { OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import { z } from 'zod';
import { SCHEDULER_CONNECTION, SCHEDULER_EVENT_STORE, SCHEDULER_OUTBOX_RELAY } from '../scheduler.tokens';
import { contextDecider } from './domain/context.decider';
import type { ContextCommand } from './domain/context.decider';

// Runs a context command against its stream. Payloads arrive from another process and are
// validated here, at the edge, before the decision sees them.
@Injectable()
export class ContextCommandsService {
  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SCHEDULER_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(SCHEDULER_OUTBOX_RELAY) private readonly relay: OutboxRelay,
  ) {}

  async execute<T extends z.ZodType>(
    kind: ContextCommand['kind'],
    schema: T,
    payload: unknown,
  ): Promise<CommandResult> {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return commandFailed('invalid', issue?.message ?? 'invalid command', issue?.path.join('.'));
    }
    const command = { kind, ...(parsed.data as object) } as ContextCommand;
    return handleCommand({
      dataSource: this.dataSource,
      store: this.store,
      decider: contextDecider,
      streamId: contextStreamId(command.name),
      topic: EventTopics.schedulerContext,
      command,
      metadata: { correlationId: command.correlationId, causationId: null },
      now: new Date(command.issuedAt),
      onCommitted: () => this.relay.wake(),
    });
  }
}
