import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTopics, hostStreamId, newEventId } from '@spindle/contracts';
import type { AgentReport, NewEvent } from '@spindle/contracts';
import { GroupCommit, isLostRace } from '@spindle/backbone';
import type { OutboxRelay, PostgresEventStore } from '@spindle/backbone';

// Records what this agent saw happen, in the worker service's own event store; the outbox relay
// carries it to the scheduler. One stream per agent run, appended to by this agent alone, so a
// report is never lost once its process ended and never reordered. Reports made while one append
// commits, or in the same turn of the event loop, go together (the backbone's GroupCommit, one
// batch at a time): one transaction for a burst of task starts and finishes instead of one each,
// still in the order they were made. Reports are facts, not commands: nothing is decided, so they
// are appended at the position this writer keeps, not through the CommandEngine.
export class AgentReporter {
  private readonly logger = new Logger('worker-agent');
  private position = -1;
  private readonly reports = new GroupCommit<NewEvent, void>(
    async (events) => {
      await this.append(events);
      return events.map(() => ({ status: 'fulfilled', value: undefined }));
    },
    { maxInFlight: 1, gatherTurn: true },
  );

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

  report(event: NewEvent<AgentReport>): Promise<void> {
    // What the same turn of the event loop reports (a task's end and its exclusive worker's)
    // goes in one commit.
    return this.reports.add(event);
  }

  private async append(events: readonly NewEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.transaction(async (manager) => {
          if (this.position < 0) this.position = await this.store.currentPosition(manager, this.streamId);
          const appended = await this.store.append(manager, this.streamId, this.position, events, {
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
        if (isLostRace(e) && attempt < 3) continue;
        if (attempt >= 10) throw e;
        // Postgres away for a moment: what happened must still be told, so keep trying.
        this.logger.warn(
          `could not record ${events.length} report(s), retrying: ${e instanceof Error ? e.message : String(e)}`,
        );
        await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2_000)));
      }
    }
  }

  drain(): Promise<void> {
    return this.reports.drain();
  }
}
