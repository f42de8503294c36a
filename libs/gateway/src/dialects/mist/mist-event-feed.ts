import { Inject, Injectable } from '@nestjs/common';
import { DataTopics, EventTopics, isJobEvent, logBatchSchema, parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { mistEventsOf, mistLogsEvents } from './mist-events';

// A Mist event as it leaves: keyed by its job id, JSON.
export interface MistOutgoing {
  readonly key: string;
  readonly value: string;
}

// Where a transport of Mist's async interface sends the events. `name` names its consumer groups
// (`spindle.<name>.events.v1`, `spindle.<name>.logs.v1`), so each transport reads at its own pace
// and a broker that is away holds back only its own. `publish` resolves once the events are
// delivered; throwing has the batch delivered again.
export interface MistEventSink {
  readonly name: string;
  publish(messages: readonly MistOutgoing[], heartbeat: () => Promise<void>): Promise<void>;
}

// Every job event and every job's log lines as Mist events, for every transport: the one place
// that decides what is published.
@Injectable()
export class MistEventFeed {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  async follow(sink: MistEventSink): Promise<Subscription[]> {
    const events = await this.bus.subscribe(
      { groupId: `spindle.${sink.name}.events.v1`, topics: [EventTopics.schedulerJob], fromBeginning: false },
      (batch, heartbeat) => this.forward(mistJobEvents(batch), sink, heartbeat),
    );
    // A group of its own, so a burst of output does not hold back the status events.
    const logs = await this.bus.subscribe(
      { groupId: `spindle.${sink.name}.logs.v1`, topics: [DataTopics.logs], fromBeginning: false },
      (batch, heartbeat) => this.forward(mistLogEvents(batch), sink, heartbeat),
    );
    return [events, logs];
  }

  private async forward(
    messages: MistOutgoing[],
    sink: MistEventSink,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    if (messages.length > 0) await sink.publish(messages, heartbeat);
  }
}

function mistJobEvents(batch: DeliveredBatch): MistOutgoing[] {
  return batch.messages.flatMap((message) => {
    let event: SpindleEvent;
    try {
      event = parseEvent(JSON.parse(message.value));
    } catch {
      return [];
    }
    if (!isJobEvent(event)) return [];
    const data: Record<string, unknown> = event.data;
    return mistEventsOf({
      type: event.type,
      data,
      occurredAt: new Date(event.occurredAt),
      function: typeof data['function'] === 'string' ? data['function'] : null,
      context: typeof data['context'] === 'string' ? data['context'] : '',
    }).map((e) => ({ key: e.id, value: JSON.stringify(e) }));
  });
}

function mistLogEvents(batch: DeliveredBatch): MistOutgoing[] {
  return batch.messages.flatMap((message) => {
    let raw: unknown;
    try {
      raw = JSON.parse(message.value);
    } catch {
      return []; // the log-collector reports malformed batches; nothing to say twice
    }
    const parsed = logBatchSchema.safeParse(raw);
    if (!parsed.success) return [];
    const { jobId, firstLine, firstByte, lines } = parsed.data;
    return mistLogsEvents(jobId, { line: firstLine, byte: firstByte }, lines).map((e) => ({
      key: jobId,
      value: JSON.stringify(e),
    }));
  });
}
