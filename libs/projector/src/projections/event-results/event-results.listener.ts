import { Inject, Injectable } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DataTopics, logBatchSchema, mapEvent, parsePublishedEvent } from '@spindle/contracts';
import type { PublishedEvent } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { PROJECTOR_CONNECTION } from '@spindle/read-models';
import { EventRulesInForce, appendEventResults } from './event-results-log';
import type { NewEventResult } from './event-results-log';

// The map half of Genvid's events results log: takes the events jobs publish (`SPINDLE_EVENT`
// lines on their stdout, shipped on the log topic like every line), maps them with the event rules
// in force and appends the results to `event_results_v1`. Like the log collector it reads the log
// topic in a consumer group of its own and commits the bus offsets only after the batch's
// transaction; a batch delivered again is recognised by its lines' (job, line, rule) keys.
@Injectable()
export class EventResultsListener implements OnModuleInit, BeforeApplicationShutdown {
  private subscription: Subscription | undefined;
  private readonly rules = new EventRulesInForce();

  constructor(
    @InjectDataSource(PROJECTOR_CONNECTION) private readonly dataSource: DataSource,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      // A result read again has its dedup key: no need to commit every batch.
      {
        groupId: 'projector.event-results.v1',
        topics: [DataTopics.logs],
        fromBeginning: true,
        commitOffsets: 'every-second',
      },
      (batch) => this.take(batch),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }

  private async take(delivered: DeliveredBatch): Promise<void> {
    const published = publishedEventsOf(delivered);
    if (published.length === 0) return; // most output is no event: no transaction for it
    await this.dataSource.transaction(async (manager) => {
      const { rules } = await this.rules.read(manager);
      const results = published.flatMap(({ event, line }): NewEventResult[] =>
        mapEvent(rules, event).map((result) => ({ result, dedup: `${event.jobId}:${line}:${result.id}` })),
      );
      await appendEventResults(manager, results);
    });
  }
}

function publishedEventsOf(delivered: DeliveredBatch): { event: PublishedEvent; line: number }[] {
  return delivered.messages.flatMap((message) => {
    const batch = logBatchSchema.safeParse(safeJson(message.value));
    if (!batch.success) return []; // the log collector warns about it
    return batch.data.lines.flatMap((line, i) => {
      if (line.stream !== 'stdout') return [];
      const event = parsePublishedEvent(line.text, batch.data.jobId, line.at);
      return event ? [{ event, line: batch.data.firstLine + i }] : [];
    });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
