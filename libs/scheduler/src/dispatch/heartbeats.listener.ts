import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { HostsTableListener, MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG, installationOf } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../scheduler.tokens';

// Records worker hosts as their heartbeats arrive: the first registers a host, a new incarnation
// replaces the old one (whose workers the dispatcher then declares lost).
@Injectable()
export class HeartbeatsListener extends HostsTableListener {
  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) dataSource: DataSource,
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(SPINDLE_CONFIG) config: SpindleConfig,
  ) {
    super(dataSource, bus, installationOf(config), {
      // v2: the group commits no offsets (subscribeToHeartbeats). v1's last ones, left behind by
      // the release before, would have had a restart read every heartbeat since.
      groupId: 'scheduler.heartbeats.v2',
      table: `"${SCHEDULER_SCHEMA}".hosts`,
      logger: 'heartbeats',
      silenceLimitMs: config.scheduler.hostSilenceLimitMs,
    });
  }
}
