import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataTopics, logBatchSchema, parsePublishedEvent } from '@spindle/contracts';
import type { EventRulesFile } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { ClusterConfigQuery } from '@spindle/read-models';
import { compileRules, mapEvent, reduce } from '../../../cluster-config/event-rules';
import type { CompiledRules, MapResult, ReduceResult } from '../../../cluster-config/event-rules';

// Genvid's results log lives while it is read: it resets when no request came for 5 s.
export const EVENT_RESULTS_IDLE_MS = 5_000;
// The log keeps its newest results up to this many; a reader further behind misses the oldest.
export const MAX_EVENT_RESULTS = 10_000;

export type EventResult = (MapResult | ReduceResult) & { readonly counter: number };

// The results of the event rules over what jobs publish (SPINDLE_EVENT lines on their stdout),
// for the Genvid clients of this gateway process. The first read opens a session: a consumer of
// the job log topic from that moment on, and a timer per reduction period; 5 s without a read
// closes it and forgets its results, as Genvid's log does.
@Injectable()
export class GenvidEventResults implements OnApplicationShutdown {
  private readonly logger = new Logger('genvid-events');
  private session: Promise<ResultsSession> | null = null;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly config: ClusterConfigQuery,
  ) {}

  // Every result after `counter`, and the counter at the end of the log.
  async after(counter: number): Promise<{ counter: number; messages: EventResult[] }> {
    clearTimeout(this.idleTimer); // the idle clock counts from the last answer
    const opening = (this.session ??= this.open());
    let session: ResultsSession;
    try {
      session = await opening;
    } catch (e) {
      if (this.session === opening) this.session = null;
      throw e;
    }
    session.useRules(await this.config.eventRules());
    this.touch();
    return session.after(counter);
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.idleTimer);
    await this.close();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), EVENT_RESULTS_IDLE_MS);
    this.idleTimer.unref();
  }

  private async open(): Promise<ResultsSession> {
    const session = new ResultsSession();
    let joined!: () => void;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    session.subscription = await this.bus.subscribe(
      {
        // A group of its own per session: it starts at the end, and never resumes an old one. It
        // commits no offsets, so Kafka drops the group when the session closes.
        groupId: `spindle.genvid.events.${randomUUID()}`,
        topics: [DataTopics.logs],
        fromBeginning: false,
        commitOffsets: false,
        onJoined: () => joined(),
      },
      (batch) => Promise.resolve(session.take(batch)),
    );
    await ready;
    return session;
  }

  private async close(): Promise<void> {
    const closing = this.session;
    this.session = null;
    if (!closing) return;
    try {
      (await closing).close();
      await (await closing).subscription?.stop();
    } catch (e) {
      this.logger.warn(`results session not closed cleanly: ${String(e)}`);
    }
  }
}

class ResultsSession {
  subscription: Subscription | undefined;
  private results: EventResult[] = [];
  private counter = 0;
  private rules: CompiledRules = compileRules([]);
  private rulesJson = '[]';
  private periods: { buffer: MapResult[]; from: Date; timer: NodeJS.Timeout }[] = [];

  // Rules are read at every request, so a change applies from the next one; periods restart.
  useRules(files: readonly EventRulesFile[]): void {
    const json = JSON.stringify(files);
    if (json === this.rulesJson) return;
    this.rulesJson = json;
    this.rules = compileRules(files);
    this.stopPeriods();
    this.periods = this.rules.reductions.map((reduction) => {
      const period = {
        buffer: [] as MapResult[],
        from: new Date(),
        timer: undefined as unknown as NodeJS.Timeout,
      };
      period.timer = setInterval(() => {
        const to = new Date();
        this.append(reduce(reduction, period.buffer, period.from.toISOString(), to.toISOString()));
        period.buffer = [];
        period.from = to;
      }, reduction.rule.period);
      period.timer.unref();
      return period;
    });
  }

  take(batch: DeliveredBatch): void {
    for (const message of batch.messages) {
      const parsed = logBatchSchema.safeParse(safeJson(message.value));
      if (!parsed.success) continue;
      for (const line of parsed.data.lines) {
        if (line.stream !== 'stdout') continue;
        const event = parsePublishedEvent(line.text, parsed.data.jobId, line.at);
        if (!event) continue;
        const mapped = mapEvent(this.rules, event);
        this.append(mapped);
        this.rules.reductions.forEach((reduction, i) => {
          const taken = mapped.filter((r) => r.id === reduction.rule.source);
          this.periods[i]?.buffer.push(...taken);
        });
      }
    }
  }

  // A counter past the end means the log was reset meanwhile: the reader gets it from its start.
  after(counter: number): { counter: number; messages: EventResult[] } {
    const from = counter > this.counter ? 0 : counter;
    return { counter: this.counter, messages: this.results.filter((r) => r.counter > from) };
  }

  close(): void {
    this.stopPeriods();
  }

  private append(results: readonly (MapResult | ReduceResult)[]): void {
    for (const result of results) this.results.push({ ...result, counter: ++this.counter });
    if (this.results.length > MAX_EVENT_RESULTS)
      this.results.splice(0, this.results.length - MAX_EVENT_RESULTS);
  }

  private stopPeriods(): void {
    for (const period of this.periods) clearInterval(period.timer);
    this.periods = [];
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
