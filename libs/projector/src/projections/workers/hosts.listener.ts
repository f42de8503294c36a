import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MESSAGE_BUS, recordHeartbeats, subscribeToHeartbeats } from '@spindle/backbone';
import type { MessageBus, Subscription } from '@spindle/backbone';
import { SPINDLE_CONFIG, installationOf } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
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
    this.subscription = await subscribeToHeartbeats(
      this.bus,
      { groupId: 'projector.hosts.v1', installation: installationOf(this.config), logger: this.logger },
      (latest) => recordHeartbeats(this.dataSource, `"${PROJECTOR_SCHEMA}".hosts_v1`, latest),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
