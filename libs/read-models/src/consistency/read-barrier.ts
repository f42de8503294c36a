import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MESSAGE_BUS, NOTIFY_CHANNELS, PgNotifications, waitForChange } from '@spindle/backbone';
import type { MessageBus, NotifyChannel } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { PROJECTOR_SCHEMA, READ_MODELS_CONNECTION } from '../read-models.tokens';
import { READ_MODEL_SOURCES } from './read-model-sources';
import type { ReadModelName } from './read-model-sources';

type Source = (typeof READ_MODEL_SOURCES)[ReadModelName];

interface Owner {
  readonly owner: string;
  readonly topics: string[];
}

interface Head extends Owner {
  readonly head: string | null; // the newest outbox row of the owner's topics at the look
}

// A partition the projector's consumer must have read up to.
interface Target {
  readonly consumer?: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly topicId: string | null;
  readonly publishedAt: string;
}

// Reads that include every write acknowledged before them. A write is acknowledged once its owner
// has committed its events with their outbox rows, and it is in a read model once the projector
// has applied them. So a read first waits until the owner's outbox holds none of the rows it held
// when the read arrived (the relay has published them; on the in-process bus a publish returns
// only once every consumer has applied the messages, so that is all), then, on Kafka, takes where
// the relay left each partition of the read model's topic (the owner's `published_offsets`) and
// waits until the projector's checkpoint has passed it. Only this installation's messages count,
// and no broker is asked. One query when nothing is pending; bounded by READ_CONSISTENCY_TIMEOUT_MS.
@Injectable()
export class ReadBarrier {
  constructor(
    @InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  // True once the read models include every write acknowledged before the call; false when the
  // bound passed first (the caller answers what it has, and says it may be stale).
  async await(
    models: readonly ReadModelName[],
    timeoutMs = this.config.readConsistencyTimeoutMs,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const sources = [...new Set(models)].map((m) => READ_MODEL_SOURCES[m]);
    const owners = [...new Set(sources.map((s) => s.owner))].map((owner) => ({
      owner,
      topics: sources.filter((s) => s.owner === owner).map((s) => s.topic),
    }));
    // One round trip when nothing is pending: the outbox heads, and the targets with whether the
    // projector has reached them already.
    const { heads, targets, reached } = await this.look(owners, sources);
    if (heads.every((h) => h.head === null)) {
      if (reached || !this.bus.durableOffsets) return true;
      return this.until(NOTIFY_CHANNELS.consumed, () => this.consumed(targets), deadline);
    }
    if (!(await this.until(NOTIFY_CHANNELS.published, () => this.outboxDrained(heads), deadline)))
      return false;
    if (!this.bus.durableOffsets) return true;
    // The rows were published after the look: where they went is only known now.
    const after = await this.publishedOffsets(owners, sources);
    return this.until(NOTIFY_CHANNELS.consumed, () => this.consumed(after), deadline);
  }

  // Looks again when the relays publish or the projector commits (Postgres notifies both), not on
  // a timer; `check` runs once at once.
  private async until(
    channel: NotifyChannel,
    check: () => Promise<boolean>,
    deadline: number,
  ): Promise<boolean> {
    const met = await waitForChange(
      PgNotifications.of(this.dataSource),
      [channel],
      check,
      deadline - Date.now(),
    );
    return met === true;
  }

  private async look(
    owners: readonly Owner[],
    sources: readonly Source[],
  ): Promise<{ heads: Head[]; targets: Target[]; reached: boolean }> {
    const [row] = await this.dataSource.query<{ heads: (string | null)[]; targets: Target[] | null }[]>(
      `select array[${owners
        .map((o, i) => `(select max(position)::text from "${o.owner}".outbox where topic = any($${i + 1}))`)
        .join(', ')}] as heads,
       (select json_agg(p) from (${this.publishedSql(owners)}) p) as targets`,
      owners.map((o) => o.topics),
    );
    const targets = withConsumers(row!.targets ?? [], sources);
    return {
      heads: owners.map((o, i) => ({ ...o, head: row!.heads[i] ?? null })),
      targets,
      reached: targets.length === 0 || (await this.consumed(targets)),
    };
  }

  // Whether the outbox rows that were there at the look are gone (published).
  private async outboxDrained(outbox: readonly Head[]): Promise<boolean> {
    const waiting = outbox.filter((o) => o.head !== null);
    const [row] = await this.dataSource.query<{ pending: boolean }[]>(
      `select ${waiting
        .map(
          (o, i) =>
            `exists (select 1 from "${o.owner}".outbox where topic = any($${2 * i + 1}) and position <= $${2 * i + 2})`,
        )
        .join(' or ')} as pending`,
      waiting.flatMap((o) => [o.topics, o.head]),
    );
    return !row!.pending;
  }

  // Where the relays left each partition of the sources' topics, with the consumer that must pass it.
  private async publishedOffsets(owners: readonly Owner[], sources: readonly Source[]): Promise<Target[]> {
    const rows: Target[] = await this.dataSource.query(
      this.publishedSql(owners),
      owners.map((o) => o.topics),
    );
    return withConsumers(rows, sources);
  }

  private publishedSql(owners: readonly Owner[]): string {
    return owners
      .map(
        (o, i) =>
          `select topic, partition, "offset"::text as "offset", topic_id as "topicId", published_at as "publishedAt"
           from "${o.owner}".published_offsets where topic = any($${i + 1})`,
      )
      .join(' union all ');
  }

  // Whether the projector's checkpoint has reached every target. A checkpoint of another topic
  // incarnation than the target's passes it only if it is newer (the target is from before a broker
  // reset or a re-created topic, and no message of ours has been published there since).
  private async consumed(targets: readonly Target[]): Promise<boolean> {
    const [row] = await this.dataSource.query<{ behind: boolean }[]>(
      `select exists (
         select 1 from jsonb_to_recordset($1::jsonb)
           as t(consumer text, topic text, partition int, "offset" bigint, "topicId" text, "publishedAt" timestamptz)
         left join "${PROJECTOR_SCHEMA}".consumer_checkpoints c
           on c.consumer = t.consumer and c.topic = t.topic and c.partition = t.partition
         where c.consumer is null
            or (c.topic_id is not distinct from t."topicId" and c."offset" < t."offset")
            or (c.topic_id is distinct from t."topicId" and c.updated_at <= t."publishedAt")
       ) as behind`,
      [JSON.stringify(targets)],
    );
    return !row!.behind;
  }
}

function withConsumers(targets: readonly Target[], sources: readonly Source[]): Target[] {
  return targets.map((t) => ({ ...t, consumer: sources.find((s) => s.topic === t.topic)!.consumer }));
}
