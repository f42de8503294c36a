import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventTopics, hostStreamId, newEventId } from '@spindle/contracts';
import type { AgentReport, EventEnvelope, MessageMetadata, NewEvent } from '@spindle/contracts';
import { GroupCommit, isLostRace } from '@spindle/backbone';
import type { OutboxRelay, PostgresEventStore } from '@spindle/backbone';

// Records what this agent saw happen, in the worker service's own event store; the outbox relay
// carries it to the scheduler. One stream per agent run, appended to by this agent alone, so a
// report is never lost once its process ended and never reordered. Reports made while one append
// commits, or in the same turn of the event loop, go together (the backbone's GroupCommit, one
// batch at a time): one transaction for a burst of task starts and finishes instead of one each,
// still in the order they were made. Reports are facts, not commands: nothing is decided, so they
// are appended at the position this writer keeps, not through the CommandEngine.
interface Report {
  readonly event: NewEvent;
  readonly metadata: MessageMetadata;
}

// What a report answers: the delivered event's id and correlation id.
export type EventCause = Pick<EventEnvelope, 'id' | 'correlationId'>;

export class AgentReporter {
  private readonly logger = new Logger('worker-agent');
  private position = -1;
  private readonly reports = new GroupCommit<Report, void>(
    async (reports) => {
      await this.append(reports);
      return reports.map(() => ({ status: 'fulfilled', value: undefined }));
    },
    { maxInFlight: 1, gather: 'each-batch' },
  );
  // Reports held back until the next report about the same worker (holdUntilNext), by worker id,
  // in the order they were held.
  private readonly held = new Map<
    string,
    { reports: { build: () => NewEvent<AgentReport>; cause?: EventCause }[]; timer: NodeJS.Timeout }
  >();

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

  // `cause`: the event this report answers (a job's assignment or cancel), whose correlation id
  // the report carries on, so that a request's events can be followed to the job's end. Reports
  // of the agent's own (heartbeats of workers, a process that ended) start a correlation of their own.
  report(event: NewEvent<AgentReport>, cause?: EventCause): Promise<void> {
    // What the same turn of the event loop reports (a task's end and its exclusive worker's)
    // goes in one commit.
    this.releaseHeld(workerOf(event));
    return this.reports.add(this.withCause(event, cause));
  }

  // A report that can wait for the next one about its worker and goes before it, in the same
  // commit: an exclusive worker's start is told with its job's start (or its end), and its job's
  // end with the worker's exit, so the scheduler decides each pair in one transaction instead of
  // two. Built when it goes (a pid known by then is in it). Nothing is lost by the wait: the next
  // report follows within moments (the job's start; the worker's exit, once its processes are
  // ended), and a host that dies meanwhile loses the worker and its job either way. Should that
  // next report be late (a worker whose processes take long to end, a slow start), the held ones
  // go alone after HELD_AT_MOST_MS: a job's end is never kept waiting on its worker's.
  holdUntilNext(workerId: string, event: () => NewEvent<AgentReport>, cause?: EventCause): void {
    const held = this.held.get(workerId) ?? {
      reports: [],
      timer: setTimeout(() => this.releaseHeld(workerId), HELD_AT_MOST_MS).unref(),
    };
    held.reports.push({ build: event, cause });
    this.held.set(workerId, held);
  }

  // Whether a report about this worker is held (holdUntilNext) and not yet gone.
  holding(workerId: string): boolean {
    return this.held.has(workerId);
  }

  private releaseHeld(workerId: string | undefined): void {
    const held = workerId === undefined ? undefined : this.held.get(workerId);
    if (!held || workerId === undefined) return;
    this.held.delete(workerId);
    clearTimeout(held.timer);
    // Its commit is the next report's: that one's promise tells a failure (drain has none after
    // it, so the failure is logged here).
    for (const { build, cause } of held.reports) {
      const event = build();
      this.reports
        .add(this.withCause(event, cause))
        .catch((e: unknown) =>
          this.logger.warn(`worker ${workerId}: ${event.type} not reported: ${String(e)}`),
        );
    }
  }

  private withCause(event: NewEvent<AgentReport>, cause?: EventCause): Report {
    return {
      event,
      metadata: cause
        ? { correlationId: cause.correlationId, causationId: cause.id }
        : { correlationId: `worker-agent-${newEventId()}`, causationId: null },
    };
  }

  private async append(reports: readonly Report[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        // No transaction of its own: the store appends to one stream in one statement, which
        // writes all of it or, when the stream has moved, nothing (a transaction was two round
        // trips more per commit).
        const { manager } = this.dataSource;
        if (this.position < 0) this.position = await this.store.currentPosition(manager, this.streamId);
        // One append per report, at consecutive positions of the one stream: each keeps its own
        // metadata, and the store writes them all in that one statement.
        const occurredAt = new Date();
        const appended = await this.store.appendMany(
          manager,
          reports.map((r, i) => ({
            streamId: this.streamId,
            expectedPosition: this.position + i,
            events: [r.event],
            topic: EventTopics.workerReport,
            metadata: r.metadata,
            occurredAt,
          })),
        );
        this.position = appended.at(-1)!.at(-1)!.streamPosition;
        this.relay.wake();
        return;
      } catch (e) {
        this.position = -1; // read it again
        if (isLostRace(e) && attempt < 3) continue;
        if (attempt >= 10) throw e;
        // Postgres away for a moment: what happened must still be told, so keep trying.
        this.logger.warn(
          `could not record ${reports.length} report(s), retrying: ${e instanceof Error ? e.message : String(e)}`,
        );
        await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2_000)));
      }
    }
  }

  drain(): Promise<void> {
    for (const workerId of [...this.held.keys()]) this.releaseHeld(workerId);
    return this.reports.drain();
  }
}

// The longest a report waits for the next one about its worker (holdUntilNext): far more than
// the moments between a task's end and its exclusive worker's exit, or a worker's start and its
// job's, as they come.
const HELD_AT_MOST_MS = 2_000;

function workerOf(event: NewEvent<AgentReport>): string | undefined {
  const data = event.data as { readonly workerId?: unknown };
  return typeof data.workerId === 'string' ? data.workerId : undefined;
}
