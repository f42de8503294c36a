import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MESSAGE_BUS, recordHeartbeats, subscribeToHeartbeats } from '@spindle/backbone';
import type { MessageBus, Subscription } from '@spindle/backbone';
import { SPINDLE_CONFIG, installationOf } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../scheduler.tokens';

// Records worker hosts as their heartbeats arrive: the first registers a host, a new incarnation
// replaces the old one (whose workers the dispatcher then declares lost).
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
    this.subscription = await subscribeToHeartbeats(
      this.bus,
      { groupId: 'scheduler.heartbeats.v1', installation: installationOf(this.config), logger: this.logger },
      (latest) => recordHeartbeats(this.dataSource, `"${SCHEDULER_SCHEMA}".hosts`, latest),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
