import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DataTopics, hostHeartbeatSchema } from '@spindle/contracts';
import type { HostHeartbeat } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import { SPINDLE_CONFIG, installationOf } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import type { DeliveredBatch, MessageBus, Subscription } from '@spindle/backbone';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../scheduler.tokens';

// Records worker hosts as their heartbeats arrive: the first registers a host, a new incarnation
// replaces the old one (whose workers the dispatcher then declares lost). Heartbeats are not
// events: only the latest matters, so they skip the event store.
@Injectable()
export class HeartbeatsListener implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('heartbeats');
  private subscription: Subscription | undefined;

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      { groupId: 'scheduler.heartbeats.v1', topics: [DataTopics.heartbeats], fromBeginning: false },
      (batch) => this.record(batch),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }

  private async record(batch: DeliveredBatch): Promise<void> {
    // Only each host's newest heartbeat of the batch matters.
    const latest = new Map<string, HostHeartbeat>();
    for (const message of batch.messages) {
      const parsed = hostHeartbeatSchema.safeParse(safeJson(message.value));
      if (!parsed.success) {
        this.logger.warn(
          `ignored a malformed heartbeat at ${batch.topic}/${batch.partition}@${message.offset}`,
        );
        continue;
      }
      if (parsed.data.installation === installationOf(this.config))
        latest.set(parsed.data.hostId, parsed.data);
    }
    for (const h of latest.values()) {
      // The host's own clock, but never in the future: a late heartbeat must not revive a host.
      await this.dataSource.query(
        `insert into "${SCHEDULER_SCHEMA}".hosts
           (id, incarnation, hostname, agent_pid, slots, stopping, started_at, last_seen)
         values ($1, $2, $3, $4, $5, $6, $7, least($8::timestamptz, now()))
         on conflict (id) do update set
           incarnation = excluded.incarnation, hostname = excluded.hostname, agent_pid = excluded.agent_pid,
           slots = excluded.slots, stopping = excluded.stopping, started_at = excluded.started_at,
           last_seen = greatest(hosts.last_seen, excluded.last_seen)
         where hosts.incarnation = excluded.incarnation or hosts.started_at <= excluded.started_at`,
        [h.hostId, h.incarnation, h.hostname, h.agentPid, h.slots, h.stopping, h.startedAt, h.sentAt],
      );
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
