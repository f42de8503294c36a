import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { GroupCommit, MESSAGE_BUS, NOTIFY_CHANNELS, PgNotifications, waitForChange } from '@spindle/backbone';
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

// What one look found for the sources asked of it: each topic's newest outbox row, and each
// partition's target with whether the projector has passed it.
interface Look {
  readonly heads: ReadonlyMap<string, string | null>; // topic → newest outbox position
  readonly targets: readonly (Target & { readonly behind: boolean })[];
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
// and no broker is asked. One statement when nothing is pending; bounded by
// READ_CONSISTENCY_TIMEOUT_MS.
//
// The reads that arrive while a look is under way share the next one (a GroupCommit of looks: each
// look starts after every read it answers arrived, so it sees every write acknowledged before
// them), and so do the checks of reads waiting for the relay or the projector. 32 consistent reads
// at once cost one or two looks, not 64 statements.
@Injectable()
export class ReadBarrier {
  constructor(
    @InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  private readonly looks = new GroupCommit<readonly Source[], Look>(async (asked) => {
    const look = await this.lookAt([...new Map(asked.flat().map((s) => [s.topic, s])).values()]);
    return asked.map(() => ({ status: 'fulfilled', value: look }));
  });

  private readonly checks = new GroupCommit<readonly Target[], boolean>(async (asked) => {
    const behind = await this.behind(asked.flat());
    let at = 0;
    return asked.map((targets) => {
      const mine = behind.slice(at, (at += targets.length));
      return { status: 'fulfilled', value: !mine.includes(true) };
    });
  });

  // For every read waiting for the relay at once, one statement: whether its outbox rows are gone
  // (each owner's oldest row per topic is newer than its head), and then where the relay left
  // each partition of its topics (null: still pending). The relay deletes what it published and
  // records where it went in one statement, so one snapshot that sees the rows gone sees where.
  private readonly drains = new GroupCommit<readonly Head[], Target[] | null>(async (asked) => {
    const state = await this.outboxState(asked.flat().filter((h) => h.head !== null));
    return asked.map((heads) => {
      const pending = heads.some(
        (h) =>
          h.head !== null &&
          h.topics.some((topic) => {
            const row = state.oldest.get(`${h.owner}|${topic}`);
            return row !== undefined && BigInt(row) <= BigInt(h.head!);
          }),
      );
      const topics = new Set(heads.flatMap((h) => (h.head === null ? [] : h.topics)));
      return {
        status: 'fulfilled',
        value: pending ? null : state.published.filter((p) => topics.has(p.topic)),
      };
    });
  });

  // True once the read models include every write acknowledged before the call; false when the
  // bound passed first (the caller answers what it has, and says it may be stale).
  async await(
    models: readonly ReadModelName[],
    timeoutMs = this.config.readConsistencyTimeoutMs,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const sources = [...new Set(models)].map((m) => READ_MODEL_SOURCES[m]);
    const owners = ownersOf(sources);
    // One round trip when nothing is pending: the outbox heads, and the targets with whether the
    // projector has reached them already.
    const look = await this.looks.add(sources);
    const topics = (owner: Owner) => owner.topics.map((topic) => look.heads.get(topic) ?? null);
    const heads = owners.map((o) => ({ ...o, head: newest(topics(o)) }));
    const targets = look.targets.filter((t) => sources.some((s) => s.topic === t.topic));
    if (heads.every((h) => h.head === null)) {
      if (!targets.some((t) => t.behind) || !this.bus.durableOffsets) return true;
      return this.until(NOTIFY_CHANNELS.consumed, () => this.consumed(targets), deadline);
    }
    // The rows were published after the look: where they went is only known with their drain.
    let published: Target[] = [];
    const drained = await this.until(
      NOTIFY_CHANNELS.published,
      async () => {
        const went = await this.drains.add(heads);
        if (went !== null) published = went;
        return went !== null;
      },
      deadline,
    );
    if (!drained) return false;
    if (!this.bus.durableOffsets) return true;
    // An owner that had nothing pending at the look: where the look found its partitions.
    const settled = new Set<string>(heads.flatMap((h) => (h.head === null ? h.topics : [])));
    const after = [...withConsumers(published, sources), ...targets.filter((t) => settled.has(t.topic))];
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

  // The newest outbox row of each topic, and where the relays left each partition with whether the
  // projector's consumer of the topic has passed it, for every source asked: one statement. (Kept
  // to plain scans and joins: a version that unnested the topics into correlated subqueries took
  // twice as long as the two statements it replaced.)
  private async lookAt(sources: readonly Source[]): Promise<Look> {
    const owners = ownersOf(sources);
    const [topics, consumers] = [owners.length + 1, owners.length + 2];
    const [row] = await this.dataSource.query<
      { heads: { topic: string; head: string }[] | null; targets: Look['targets'] | null }[]
    >(
      `select (select json_agg(h) from (${owners
        .map(
          (o, i) =>
            `select topic, max(position)::text as head from "${o.owner}".outbox
             where topic = any($${i + 1}) group by topic`,
        )
        .join(' union all ')}) h) as heads,
       (select json_agg(p) from (${owners
         .map(
           (o, i) =>
             `select p.topic, p.partition, p."offset"::text as "offset", p.topic_id as "topicId",
                     p.published_at as "publishedAt", ${BEHIND} as behind
              from "${o.owner}".published_offsets p
              left join "${PROJECTOR_SCHEMA}".consumer_checkpoints c
                on c.consumer = ($${consumers}::text[])[array_position($${topics}::text[], p.topic)]
               and c.topic = p.topic and c.partition = p.partition
              where p.topic = any($${i + 1})`,
         )
         .join(' union all ')}) p) as targets`,
      [...owners.map((o) => o.topics), sources.map((s) => s.topic), sources.map((s) => s.consumer)],
    );
    return {
      heads: new Map((row!.heads ?? []).map((h) => [h.topic, h.head])),
      targets: withConsumers(row!.targets ?? [], sources),
    };
  }

  // Each owner's oldest outbox row per topic (keyed `owner|topic`; a topic with none is absent),
  // and where its relay left each partition of those topics: one statement.
  private async outboxState(
    heads: readonly Head[],
  ): Promise<{ oldest: Map<string, string>; published: Target[] }> {
    const owners = ownersOf(heads.flatMap((h) => h.topics.map((topic) => ({ owner: h.owner, topic }))));
    if (owners.length === 0) return { oldest: new Map(), published: [] };
    const [row] = await this.dataSource.query<
      { oldest: { owner: number; topic: string; oldest: string }[] | null; published: Target[] | null }[]
    >(
      `select (select json_agg(o) from (${owners
        .map(
          (o, i) =>
            `select ${i} as owner, topic, min(position)::text as oldest from "${o.owner}".outbox
             where topic = any($${i + 1}) group by topic`,
        )
        .join(' union all ')}) o) as oldest,
       (select json_agg(p) from (${owners
         .map(
           (o, i) =>
             `select topic, partition, "offset"::text as "offset", topic_id as "topicId",
                     published_at as "publishedAt"
              from "${o.owner}".published_offsets where topic = any($${i + 1})`,
         )
         .join(' union all ')}) p) as published`,
      owners.map((o) => o.topics),
    );
    return {
      oldest: new Map((row!.oldest ?? []).map((r) => [`${owners[r.owner]!.owner}|${r.topic}`, r.oldest])),
      published: row!.published ?? [],
    };
  }

  // Whether the projector's checkpoint has reached every target (checked with the other waiting
  // reads' targets, in one statement).
  private consumed(targets: readonly Target[]): Promise<boolean> {
    return this.checks.add(targets);
  }

  // For each target, in order, whether the projector's checkpoint is still behind it.
  private async behind(targets: readonly Target[]): Promise<boolean[]> {
    const rows = await this.dataSource.query<{ behind: boolean }[]>(
      `select ${BEHIND} as behind
       from jsonb_to_recordset($1::jsonb)
         as p(i int, consumer text, topic text, partition int, "offset" bigint, topic_id text, published_at timestamptz)
       left join "${PROJECTOR_SCHEMA}".consumer_checkpoints c
         on c.consumer = p.consumer and c.topic = p.topic and c.partition = p.partition
       order by p.i`,
      [
        JSON.stringify(
          targets.map((t, i) => ({
            i,
            consumer: t.consumer,
            topic: t.topic,
            partition: t.partition,
            offset: t.offset,
            topic_id: t.topicId,
            published_at: t.publishedAt,
          })),
        ),
      ],
    );
    return rows.map((r) => r.behind);
  }
}

// Whether the projector's checkpoint `c` is behind the published offset `p`. A checkpoint of
// another topic incarnation than the target's passes it only if it is newer (the target is from
// before a broker reset or a re-created topic, and no message of ours has been published there
// since).
const BEHIND = `(c.consumer is null
   or (c.topic_id is not distinct from p.topic_id and c."offset" < p."offset")
   or (c.topic_id is distinct from p.topic_id and c.updated_at <= p.published_at))`;

// Topics grouped by the owner whose outbox and relay publish them, each topic once.
function ownersOf(entries: readonly { readonly owner: string; readonly topic: string }[]): Owner[] {
  const owners = new Map<string, Set<string>>();
  for (const { owner, topic } of entries) owners.set(owner, (owners.get(owner) ?? new Set()).add(topic));
  return [...owners].map(([owner, topics]) => ({ owner, topics: [...topics] }));
}

// The newest of some outbox positions (bigint as text), or null when there are none.
function newest(positions: readonly (string | null)[]): string | null {
  return positions.reduce<string | null>(
    (max, p) => (p !== null && (max === null || BigInt(p) > BigInt(max)) ? p : max),
    null,
  );
}

function withConsumers<T extends Target>(targets: readonly T[], sources: readonly Source[]): T[] {
  return targets.map((t) => ({ ...t, consumer: sources.find((s) => s.topic === t.topic)!.consumer }));
}
