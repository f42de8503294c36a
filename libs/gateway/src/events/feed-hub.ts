import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NOTIFY_CHANNELS, PgNotifications } from '@spindle/backbone';
import { FeedQuery, READ_MODELS_CONNECTION } from '@spindle/read-models';
import type { FeedEntryView } from '@spindle/read-models';

// The projector's commits wake the hub (Postgres notifies them); this timer is the safety net,
// and the retry for entries held back by a transaction still open.
const POLL_MS = 250;
const PAGE = 1_000;

export type FeedListener = (entry: FeedEntryView) => void;

// One reader of the change feed for every open event stream of this gateway: it reads only while
// someone listens, when the projector commits, and hands each new entry to every listener, which
// filters for itself.
@Injectable()
export class FeedHub implements OnApplicationShutdown {
  private readonly logger = new Logger('feed');
  private readonly listeners = new Set<FeedListener>();
  private head: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly feed: FeedQuery,
    @InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource,
  ) {}

  // Entries from `after` on (exclusive): first what is already recorded, then live ones, with no
  // gap and no repeat between the two. Returns the unsubscribe function.
  async subscribe(
    after: string | null,
    listener: FeedListener,
    history?: (after: string) => Promise<FeedEntryView[]>,
  ): Promise<() => void> {
    // Fix the hub's position first: whatever comes after it is delivered live, whatever lies
    // before it is read from history below; the two overlap, never leave a gap.
    const head = await this.currentHead();
    let cursor = after ?? head;
    const buffered: FeedEntryView[] = [];
    let live = false;
    const deliver = (entry: FeedEntryView): void => {
      if (BigInt(entry.seq) <= BigInt(cursor)) return;
      cursor = entry.seq;
      listener(entry);
    };
    const wrapped: FeedListener = (entry) => (live ? deliver(entry) : buffered.push(entry));
    this.listeners.add(wrapped);
    this.listen();
    this.ensurePolling();
    const read = history ?? ((from: string) => this.feed.after(from, PAGE));
    for (;;) {
      const page = await read(cursor);
      for (const entry of page) deliver(entry);
      if (page.length < PAGE) break;
    }
    for (const entry of buffered) deliver(entry);
    live = true;
    return () => {
      this.listeners.delete(wrapped);
    };
  }

  onApplicationShutdown(): void {
    this.listeners.clear();
    clearTimeout(this.timer);
    this.stopListening?.();
  }

  // Read at once when the projector commits, while anyone listens.
  private listen(): void {
    if (this.stopListening) return;
    this.stopListening = () => undefined; // listening is being set up
    void PgNotifications.of(this.dataSource)
      .on(NOTIFY_CHANNELS.consumed, () => {
        if (this.listeners.size === 0) return;
        if (this.polling) this.pollAgain = true;
        else {
          clearTimeout(this.timer);
          void this.poll();
        }
      })
      .then((off) => (this.stopListening = off));
  }

  private async currentHead(): Promise<string> {
    this.head ??= await this.feed.lastSeq();
    return this.head;
  }

  private ensurePolling(): void {
    if (!this.timer && !this.polling) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    if (this.listeners.size === 0) {
      this.head = undefined; // nobody listens: the next subscriber reads the head afresh
      return;
    }
    this.polling = true;
    try {
      const from = await this.currentHead();
      const page = await this.feed.after(from, PAGE);
      for (const entry of page) {
        this.head = entry.seq;
        for (const listener of this.listeners) listener(entry);
      }
    } catch (e) {
      this.logger.warn(`feed poll failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.polling = false;
    }
    if (this.pollAgain) {
      this.pollAgain = false;
      void this.poll();
      return;
    }
    this.ensurePolling();
  }
}
