import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTopics, hostStreamId, newEventId } from '@spindle/contracts';
import type { AgentReport, NewEvent } from '@spindle/contracts';
import { ConcurrencyError } from '@spindle/backbone';
import type { OutboxRelay, PostgresEventStore } from '@spindle/backbone';

type ReportOf<T extends AgentReport['type']> = Extract<AgentReport, { type: T }>['data'];

// Records what this agent saw happen, in the worker service's own event store; the outbox relay
// carries it to the scheduler. One stream per agent run, appended to by this agent alone, one
// report after the other, so a report is never lost once its process ended and never reordered.
export class AgentReporter {
  private readonly logger = new Logger('worker-agent');
  private position = -1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly relay: OutboxRelay,
    private readonly streamId: string,
  ) {}

  static forHost(
    dataSource: DataSource,
    store: PostgresEventStore,
    relay: OutboxRelay,
    hostId: string,
    incarnation: string,
  ): AgentReporter {
    return new AgentReporter(dataSource, store, relay, hostStreamId(hostId, incarnation));
  }

  report<T extends AgentReport['type']>(type: T, data: ReportOf<T>): Promise<void> {
    const event: NewEvent = { type, version: 1, data };
    const next = this.chain.then(() => this.append(event));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async append(event: NewEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.transaction(async (manager) => {
          if (this.position < 0) this.position = await this.store.currentPosition(manager, this.streamId);
          const appended = await this.store.append(manager, this.streamId, this.position, [event], {
            topic: EventTopics.workerReport,
            metadata: { correlationId: `worker-agent-${newEventId()}`, causationId: null },
            occurredAt: new Date(),
          });
          this.position = appended.at(-1)!.streamPosition;
        });
        this.relay.wake();
        return;
      } catch (e) {
        this.position = -1; // read it again
        if (e instanceof ConcurrencyError && attempt < 3) continue;
        if (attempt >= 10) throw e;
        // Postgres away for a moment: what happened must still be told, so keep trying.
        this.logger.warn(
          `could not record ${event.type}, retrying: ${e instanceof Error ? e.message : String(e)}`,
        );
        await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2_000)));
      }
    }
  }

  async drain(): Promise<void> {
    await this.chain;
  }
}
