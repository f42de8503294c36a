import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { PROJECTOR_SCHEMA, READ_MODELS_CONNECTION } from '../read-models.tokens';
import { READ_MODEL_SOURCES } from './read-model-sources';
import type { ReadModelName } from './read-model-sources';

const POLL_MS = 5;

type Source = (typeof READ_MODEL_SOURCES)[ReadModelName];

// Reads that include every write acknowledged before them. A write is acknowledged once its owner
// has committed its events with their outbox rows, and it is in a read model once the projector
// has applied them. So a read first waits until the owner's outbox holds none of the rows it held
// when the read arrived (the relay has published them; on the in-process bus a publish returns
// only once every consumer has applied the messages, so that is all), then, on Kafka, takes where
// each partition of the read model's topic ends and waits until the projector's checkpoint has
// passed it. One query when nothing is pending; bounded by READ_CONSISTENCY_TIMEOUT_MS.
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
    const outbox = await this.outboxHeads(owners);
    if (outbox.some((o) => o.head !== null)) {
      const drained = () => this.outboxDrained(outbox);
      if (!(await until(drained, deadline))) return false;
    }
    if (!this.bus.durableOffsets) return true;
    let ends: ReadonlyMap<string, ReadonlyMap<number, bigint>>;
    try {
      ends = await this.bus.endOffsets(sources.map((s) => s.topic));
    } catch {
      return false; // the broker is away: what the read models hold is all there is to answer
    }
    return until(() => this.consumed(sources, ends), deadline);
  }

  // The newest outbox row of each owner's topics: every acknowledged write not yet published is
  // at or below it.
  private async outboxHeads(
    owners: readonly { owner: string; topics: string[] }[],
  ): Promise<{ owner: string; topics: string[]; head: string | null }[]> {
    const [row] = await this.dataSource.query<Record<string, string | null>[]>(
      `select ${owners
        .map(
          (o, i) =>
            `(select max(position)::text from "${o.owner}".outbox where topic = any($${i + 1})) as h${i}`,
        )
        .join(', ')}`,
      owners.map((o) => o.topics),
    );
    return owners.map((o, i) => ({ ...o, head: row![`h${i}`] ?? null }));
  }

  private async outboxDrained(
    outbox: readonly { owner: string; topics: string[]; head: string | null }[],
  ): Promise<boolean> {
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

  // Whether each projector consumer's checkpoint has reached the last message of every partition.
  private async consumed(
    sources: readonly Source[],
    ends: ReadonlyMap<string, ReadonlyMap<number, bigint>>,
  ): Promise<boolean> {
    const rows: { consumer: string; topic: string; partition: number; offset: string }[] =
      await this.dataSource.query(
        `select consumer, topic, partition, "offset"::text as "offset"
         from "${PROJECTOR_SCHEMA}".consumer_checkpoints where consumer = any($1)`,
        [sources.map((s) => s.consumer)],
      );
    const at = new Map(rows.map((r) => [`${r.consumer}|${r.topic}|${r.partition}`, BigInt(r.offset)]));
    return sources.every((s) =>
      [...(ends.get(s.topic) ?? new Map<number, bigint>())].every(
        ([partition, end]) =>
          end === 0n || (at.get(`${s.consumer}|${s.topic}|${partition}`) ?? -1n) >= end - 1n,
      ),
    );
  }
}

async function until(check: () => Promise<boolean>, deadline: number): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
