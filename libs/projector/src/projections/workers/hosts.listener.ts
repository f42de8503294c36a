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
import { PROJECTOR_CONNECTION, PROJECTOR_SCHEMA } from '@spindle/read-models';

// Keeps hosts_v1 at each host's latest heartbeat, for the workers API (host, last heartbeat).
@Injectable()
export class HostsListener implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('projector:hosts');
  private subscription: Subscription | undefined;

  constructor(
    @InjectDataSource(PROJECTOR_CONNECTION) private readonly dataSource: DataSource,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      { groupId: 'projector.hosts.v1', topics: [DataTopics.heartbeats], fromBeginning: false },
      (batch) => this.record(batch),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }

  private async record(batch: DeliveredBatch): Promise<void> {
    const latest = new Map<string, HostHeartbeat>();
    for (const message of batch.messages) {
      let raw: unknown;
      try {
        raw = JSON.parse(message.value);
      } catch {
        raw = undefined;
      }
      const parsed = hostHeartbeatSchema.safeParse(raw);
      if (!parsed.success) this.logger.warn(`ignored a malformed heartbeat at offset ${message.offset}`);
      else if (parsed.data.installation === installationOf(this.config))
        latest.set(parsed.data.hostId, parsed.data);
    }
    for (const h of latest.values()) {
      await this.dataSource.query(
        `insert into "${PROJECTOR_SCHEMA}".hosts_v1
           (id, incarnation, hostname, agent_pid, slots, stopping, started_at, last_seen)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (id) do update set incarnation = excluded.incarnation, hostname = excluded.hostname,
           agent_pid = excluded.agent_pid, slots = excluded.slots, stopping = excluded.stopping,
           started_at = excluded.started_at, last_seen = greatest(hosts_v1.last_seen, excluded.last_seen)`,
        [h.hostId, h.incarnation, h.hostname, h.agentPid, h.slots, h.stopping, h.startedAt, h.sentAt],
      );
    }
  }
}
