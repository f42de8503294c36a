import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DEAD_LETTER_TOPIC, InvalidEventError, parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import type { DeliveredBatch, DeliveredMessage, MessageBus, Subscription } from '../bus/message-bus';
import type { EventConsumer } from './event-consumer';
import { ridingCtes } from '../database/statement-parts';
import type { StatementParts } from '../database/statement-parts';
import { isLostRace } from '../event-store/command-engine';
import { NOTIFY_CHANNELS } from '../database/pg-notifications';
import { consumedEvents, consumerLag, deadLettered } from '../metrics/backbone-metrics';

export interface EventConsumerRunnerOptions {
  readonly schema: string; // where the consumer's rows and checkpoints live
  readonly maxAttempts: number;
  readonly retryBaseMs?: number;
  readonly fromBeginning?: boolean;
  // Defaults to the consumer's name; tests override it to stand for a group whose offsets are lost.
  readonly groupId?: string;
  // Fault injection for tests: runs after the rows and checkpoint commit, before the bus offset commit.
  readonly afterCommit?: (batch: DeliveredBatch) => Promise<void> | void;
}

class PoisonMessage extends Error {}

// How often a batch whose transaction lost a race is applied again before it counts as failed.
const LOST_RACE_ATTEMPTS = 5;

// Where a consumer got to on one partition, and in which incarnation of the topic.
interface Checkpoint {
  readonly offset: bigint;
  readonly topicId: string | null;
}

const NONE: Checkpoint = { offset: -1n, topicId: null };

interface Item {
  readonly message: DeliveredMessage;
  readonly event: SpindleEvent;
}

// A batch's messages to apply (those past its checkpoint), parsed.
interface Part {
  readonly batch: DeliveredBatch;
  readonly items: readonly Item[];
}

// A checkpoint as the claim's statement found it.
interface CheckpointRow {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly topicId: string | null;
}

// Feeds a consumer from the bus. Rows, the (topic, partition, offset) checkpoint and the inbox of
// applied event ids commit together (one transaction, or one statement for a consumer with
// `writes`), so a crash anywhere leaves all or none; whatever the bus redelivers at or below the
// checkpoint, and any event id seen before, is skipped. A message that keeps failing is retried,
// then sent to the dead-letter topic with its origin and error, and the consumer moves on.
// A checkpoint also names the topic's incarnation (Kafka's topic id). A broker started on empty
// data, or a topic deleted and created again, numbers its messages from 0 again: under the old
// checkpoint they would all look applied. So a checkpoint of another incarnation counts for
// nothing: the new topic is read from its beginning (its group's offsets went with the old one),
// the inbox skips what was applied already, and one warning names the topic.
export class EventConsumerRunner {
  private readonly logger: Logger;
  private readonly checkpoints = new Map<string, Checkpoint>();
  private readonly warnedIncarnations = new Set<string>();
  private subscription: Subscription | undefined;
  private readonly table: string;
  private readonly inbox: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    private readonly consumer: EventConsumer,
    private readonly options: EventConsumerRunnerOptions,
  ) {
    this.logger = new Logger(`consumer:${consumer.name}`);
    this.table = `"${options.schema}".consumer_checkpoints`;
    this.inbox = `"${options.schema}".consumer_inbox`;
  }

  get name(): string {
    return this.consumer.name;
  }

  get topics(): readonly string[] {
    return this.consumer.topics;
  }

  // A subscription of its own. Several consumers of one service share one instead
  // (EventConsumerGroup), which calls handleBatch.
  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      {
        groupId: this.options.groupId ?? this.consumer.name,
        topics: this.consumer.topics,
        fromBeginning: this.options.fromBeginning ?? true,
        commitOffsets: 'every-second', // the checkpoint skips what is read again
      },
      (batch, heartbeat) => this.handleBatch(batch, heartbeat),
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }

  // Batches of several partitions (a fetch's) at once: for a consumer with `writes`, in one
  // statement, every partition's checkpoint with them, where each batch alone took one. Anything
  // less than every batch clean and committed together goes as before, batch by batch (a failed
  // statement commits nothing of any of them).
  async handleBatches(
    batches: readonly DeliveredBatch[],
    heartbeat: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    if (batches.length > 1 && this.consumer.writes) {
      const parts: Part[] = [];
      for (const batch of batches) {
        const items = await this.freshOf(batch);
        if (items.some((i) => i.event instanceof Error)) {
          parts.length = 0;
          break;
        }
        if (items.length > 0) parts.push({ batch, items: items as Item[] });
      }
      if (parts.length > 0) {
        try {
          await this.commit(parts);
          for (const { batch } of parts) await this.options.afterCommit?.(batch);
          return;
        } catch (e) {
          if (e instanceof SimulatedCrash) throw e;
          this.logger.warn(
            `${parts.length} batches together failed, retrying batch by batch: ${messageOf(e)}`,
          );
        }
      }
    }
    for (const batch of batches) await this.handleBatch(batch, heartbeat);
  }

  async handleBatch(
    batch: DeliveredBatch,
    heartbeat: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    const parsed = await this.freshOf(batch);
    if (parsed.length === 0) return;
    if (parsed.every((p) => !(p.event instanceof Error))) {
      try {
        await this.commit([{ batch, items: parsed as Item[] }]);
        await this.options.afterCommit?.(batch);
        return;
      } catch (e) {
        if (e instanceof SimulatedCrash) throw e;
        this.logger.warn(`batch of ${parsed.length} failed, retrying one by one: ${messageOf(e)}`);
      }
    }
    for (const { message, event } of parsed) {
      await this.handleOne(batch, message, event);
      // Retries with backoff can take a while: tell the group this member is alive.
      await heartbeat();
    }
    await this.options.afterCommit?.(batch);
  }

  // A batch's messages past its partition's checkpoint, each parsed (or the error that says why
  // it cannot be).
  private async freshOf(
    batch: DeliveredBatch,
  ): Promise<{ message: DeliveredMessage; event: SpindleEvent | Error }[]> {
    const checkpoint = this.bus.durableOffsets ? await this.checkpointOf(batch.topic, batch.partition) : NONE;
    const upTo = this.appliedUpTo(checkpoint, batch);
    return batch.messages
      .filter((m) => BigInt(m.offset) > upTo)
      .map((m) => ({ message: m, event: tryParse(m) }));
  }

  private async handleOne(
    batch: DeliveredBatch,
    message: DeliveredMessage,
    event: SpindleEvent | Error,
  ): Promise<void> {
    if (event instanceof Error) {
      // A malformed message will not get better by retrying.
      await this.deadLetter(batch, message, event, 1);
      return;
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      try {
        await this.commit([{ batch, items: [{ message, event }] }]);
        return;
      } catch (e) {
        lastError = e;
        if (attempt < this.options.maxAttempts)
          await sleep((this.options.retryBaseMs ?? 50) * 2 ** (attempt - 1));
      }
    }
    // If the database itself is gone, the message is not the problem: stop and let the bus redeliver.
    await this.dataSource.query('select 1');
    await this.deadLetter(batch, message, lastError, this.options.maxAttempts);
  }

  // In a transaction: the claim, then the consumer's handle. A consumer with `writes` (its writes
  // change nothing when run again or late) has them run in the claim's own statement instead, with
  // no transaction: every part of one statement commits together, so the rows, the checkpoint and
  // the inbox still do. Its writes cover every event of the batch, claimed or not (what the inbox
  // already had changes nothing again), and a zombie of the same partition, late with rows it read
  // before, cannot take a row back. That is two round trips a batch, its reads and that statement,
  // where the transaction took five.
  // A lost race (a stream the consumer appends to moved meanwhile: CommandEngine in this
  // transaction) is not the batch's fault: it is applied again on fresh state, a few times, before
  // it counts as failed.
  // `parts`: one batch's items, or several partitions' (handleBatches), in the order delivered.
  private async commit(parts: readonly Part[]): Promise<void> {
    let applied: readonly SpindleEvent[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.consumer.writes) {
          const manager = this.dataSource.manager;
          const planned = await this.consumer.writes(
            parts.flatMap((p) => p.items.map((i) => i.event)),
            manager,
          );
          applied = await this.claimAndCheckpoint(manager, parts, planned);
        } else {
          await this.dataSource.transaction(async (manager) => {
            const fresh = await this.claimAndCheckpoint(manager, parts);
            if (fresh.length > 0) await this.consumer.handle(fresh, manager);
            applied = fresh;
          });
        }
        break;
      } catch (e) {
        if (!isLostRace(e) || attempt >= LOST_RACE_ATTEMPTS) throw e;
      }
    }
    for (const { batch, items } of parts) this.remember(batch, items.at(-1)!.message);
    if (applied.length > 0) this.consumer.committed?.(applied);
    this.observe(applied);
  }

  // Committed now: each event's way from its owner's decision to here.
  private observe(events: readonly SpindleEvent[]): void {
    if (events.length === 0) return;
    const now = Date.now();
    const lag = consumerLag.labels(this.consumer.name);
    for (const event of events) lag.observe(Math.max(0, now - Date.parse(event.occurredAt)) / 1000);
    consumedEvents.labels(this.consumer.name).inc(events.length);
  }

  // Which of `items` to apply, in one statement that also moves the partition's checkpoint past
  // them and runs the consumer's `writes` when it has them: the checkpoint counts only if the
  // batch's writes commit (in the batch's transaction, or in this same statement). The checkpoint
  // as it was says where this partition was (the cached one can be stale after a rebalance); the
  // inbox says which events were applied, whatever their offset (an event re-published after a
  // relay crash carries a new offset and its old id), and it is what keeps a zombie consumer of the
  // same partition from applying the same messages twice: its claim of the same event ids waits
  // for this transaction and then claims nothing. The same event twice within one batch is
  // applied once, its first. The checkpoint was a statement of its own after the consumer's
  // writes, one round trip more per batch.
  private async claimAndCheckpoint(
    manager: EntityManager,
    parts: readonly Part[],
    writes: readonly StatementParts[] = [],
  ): Promise<SpindleEvent[]> {
    const items = parts.flatMap((p) => p.items.map((item) => ({ ...item, topicId: p.batch.topicId })));
    const riding = ridingCtes(writes, 11);
    // The checkpoint counts only where appliedUpTo says it does: offsets that survive (durable)
    // and the same incarnation of the topic. Every part of the statement sees the rows as they were
    // before it (saved's writes are not visible to `checkpoint`). $2-$5 are one element per
    // batch (its partition and where it ends), $6-$10 one per message.
    const rows: { checkpoints: CheckpointRow[] | null; claimed: string[] }[] = await manager.query(
      `with checkpoint as (
         select c.topic, c.partition, c."offset", c.topic_id from ${this.table} c
         join unnest($2::text[], $3::int[]) as p(topic, partition) on c.topic = p.topic and c.partition = p.partition
         where c.consumer = $1),
       claimed as (
         insert into ${this.inbox} (consumer, event_id)
         select $1, e.id from unnest($6::uuid[], $7::bigint[], $8::text[], $9::int[], $10::text[])
           as e(id, "offset", topic, partition, topic_id)
         where e."offset" > coalesce(
           (select c."offset" from checkpoint c
            where c.topic = e.topic and c.partition = e.partition
              and $11::boolean and c.topic_id is not distinct from e.topic_id), -1)
         on conflict do nothing returning event_id),
       saved as (${this.checkpointUpsert('$1', '$2', '$3', '$4', '$5')})${riding.ctes && `,\n${riding.ctes}`}
       select (select json_agg(json_build_object('topic', topic, 'partition', partition,
                                                 'offset', "offset"::text, 'topicId', topic_id))
               from checkpoint) as checkpoints,
              array(select event_id::text from claimed) as claimed`,
      [
        this.consumer.name,
        parts.map((p) => p.batch.topic),
        parts.map((p) => p.batch.partition),
        parts.map((p) => p.items.at(-1)!.message.offset),
        parts.map((p) => p.batch.topicId),
        items.map((i) => i.event.id),
        items.map((i) => i.message.offset),
        items.map((i) => i.message.topic),
        items.map((i) => i.message.partition),
        items.map((i) => i.topicId),
        this.bus.durableOffsets,
        ...riding.params,
      ],
    );
    const row = rows[0]!;
    // Says once when a checkpoint is of another incarnation of the topic (it counted for nothing).
    for (const { batch } of parts) {
      const was = row.checkpoints?.find((c) => c.topic === batch.topic && c.partition === batch.partition);
      this.appliedUpTo(was ? { offset: BigInt(was.offset), topicId: was.topicId } : NONE, batch);
    }
    const claimed = new Set(row.claimed);
    return items.map((i) => i.event).filter((e) => claimed.delete(e.id));
  }

  // The last offset applied in the batch's own incarnation of the topic; -1 when nothing is known
  // to be. Offsets that do not survive a restart (the in-process bus) say nothing either: the inbox
  // decides.
  private appliedUpTo(checkpoint: Checkpoint, batch: DeliveredBatch): bigint {
    if (!this.bus.durableOffsets || checkpoint.offset < 0n) return -1n;
    if (checkpoint.topicId === batch.topicId) return checkpoint.offset;
    const warning = `${batch.topic}:${batch.topicId}`;
    if (!this.warnedIncarnations.has(warning)) {
      this.warnedIncarnations.add(warning);
      this.logger.warn(
        `topic ${batch.topic} is not the one checkpointed (topic id ${checkpoint.topicId ?? 'not recorded'}, now ${batch.topicId}): ` +
          'the broker was reset or the topic re-created; reading it from its beginning, already applied events are skipped by id',
      );
    }
    return -1n;
  }

  private remember(batch: DeliveredBatch, message: DeliveredMessage): void {
    this.checkpoints.set(`${message.topic}:${message.partition}`, {
      offset: BigInt(message.offset),
      topicId: batch.topicId,
    });
  }

  private async deadLetter(
    batch: DeliveredBatch,
    message: DeliveredMessage,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    deadLettered.labels(this.consumer.name).inc();
    this.logger.error(
      `dead-lettering ${message.topic}[${message.partition}]@${message.offset} after ${attempts} attempt(s): ${messageOf(error)}`,
    );
    await this.bus.publish([
      {
        topic: DEAD_LETTER_TOPIC,
        messages: [
          {
            key: message.key ?? `${message.topic}:${message.partition}:${message.offset}`,
            value: message.value,
            headers: {
              ...message.headers,
              'dlq-consumer': this.consumer.name,
              'dlq-original-topic': message.topic,
              'dlq-original-partition': String(message.partition),
              'dlq-original-offset': message.offset,
              'dlq-attempts': String(attempts),
              'dlq-error': messageOf(error).slice(0, 1_000),
            },
          },
        ],
      },
    ]);
    await this.dataSource.transaction((manager) => this.saveCheckpoint(manager, batch, message));
    this.remember(batch, message);
  }

  private async checkpointOf(topic: string, partition: number): Promise<Checkpoint> {
    const key = `${topic}:${partition}`;
    const cached = this.checkpoints.get(key);
    if (cached !== undefined) return cached;
    const rows: { offset: string; topic_id: string | null }[] = await this.dataSource.query(
      `select "offset"::text as "offset", topic_id from ${this.table}
       where consumer = $1 and topic = $2 and partition = $3`,
      [this.consumer.name, topic, partition],
    );
    const value = rows[0] ? { offset: BigInt(rows[0].offset), topicId: rows[0].topic_id } : NONE;
    this.checkpoints.set(key, value);
    return value;
  }

  // Within one incarnation the checkpoint only moves forward; a new incarnation replaces it.
  private async saveCheckpoint(
    manager: EntityManager,
    batch: DeliveredBatch,
    message: DeliveredMessage,
  ): Promise<void> {
    await manager.query(this.checkpointUpsert('$1', '$2', '$3', '$4', '$5'), [
      this.consumer.name,
      [message.topic],
      [message.partition],
      [message.offset],
      [batch.topicId],
    ]);
  }

  // The statement that saves checkpoints, given the parameters that hold their consumer and, one
  // element per checkpoint, their topics, partitions, offsets and topic ids. The notification
  // goes out when its transaction commits: whoever waits for this consumer (read your writes,
  // consistent reads) looks again then, in whichever process it runs.
  private checkpointUpsert(
    consumer: string,
    topics: string,
    partitions: string,
    offsets: string,
    topicIds: string,
  ): string {
    const forwardOnly = this.bus.durableOffsets
      ? `case when consumer_checkpoints.topic_id is not distinct from excluded.topic_id
           then greatest(consumer_checkpoints."offset", excluded."offset") else excluded."offset" end`
      : 'excluded."offset"';
    return `insert into ${this.table} (consumer, topic, partition, "offset", topic_id)
       select ${consumer}::text, c.*
       from (select pg_notify('${NOTIFY_CHANNELS.consumed}', ${consumer}::text)) notified,
         unnest(${topics}::text[], ${partitions}::int[], ${offsets}::bigint[], ${topicIds}::text[]) as c
       on conflict (consumer, topic, partition) do update
         set "offset" = ${forwardOnly}, topic_id = excluded.topic_id, updated_at = now()`;
  }
}

// Thrown by tests' afterCommit hook to stand for a process dying at that point.
export class SimulatedCrash extends Error {}

function tryParse(message: DeliveredMessage): SpindleEvent | Error {
  try {
    return parseEvent(JSON.parse(message.value));
  } catch (e) {
    return e instanceof InvalidEventError ? e : new PoisonMessage(`unreadable message: ${messageOf(e)}`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
