import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataTopics, logBatchSchema } from '@spindle/contracts';
import type { LogBatch } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { LogLinesStore } from './log-lines.store';

// Stores the log batches worker agents ship. A bus batch is written whole (LogLinesStore.append) and
// its offsets committed only after, so a crash redelivers it and the line keys drop what was stored.
@Injectable()
export class LogIngestion implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('log-collector');
  private subscription: Subscription | undefined;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly store: LogLinesStore,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      // A line read again is one the store has (its key): no need to commit every batch.
      {
        groupId: 'log-collector.lines.v1',
        topics: [DataTopics.logs],
        fromBeginning: true,
        commitOffsets: 'every-second',
      },
      (batch) => this.ingest(batch),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }

  private async ingest(delivered: DeliveredBatch): Promise<void> {
    const batches: LogBatch[] = [];
    for (const message of delivered.messages) {
      let raw: unknown;
      try {
        raw = JSON.parse(message.value);
      } catch {
        raw = undefined;
      }
      const parsed = logBatchSchema.safeParse(raw);
      if (parsed.success) batches.push(parsed.data);
      // The content is a program's output: it is not repeated in our own logs.
      else
        this.logger.warn(
          `skipped a malformed log batch at ${delivered.topic}/${delivered.partition}@${message.offset}`,
        );
    }
    if (batches.length === 0) return;
    await this.store.append(batches);
  }
}
