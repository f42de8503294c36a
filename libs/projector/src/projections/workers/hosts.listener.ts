import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { HostsTableListener, MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG, installationOf } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { PROJECTOR_CONNECTION, PROJECTOR_SCHEMA } from '@spindle/read-models';

// Keeps hosts_v1 at each host's latest heartbeat, for the workers API (host, last heartbeat).
@Injectable()
export class HostsListener extends HostsTableListener {
  constructor(
    @InjectDataSource(PROJECTOR_CONNECTION) dataSource: DataSource,
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(SPINDLE_CONFIG) config: SpindleConfig,
  ) {
    super(dataSource, bus, installationOf(config), {
      // v2: the group commits no offsets (subscribeToHeartbeats). v1's last ones, left behind by
      // the release before, would have had a restart read every heartbeat since.
      groupId: 'projector.hosts.v2',
      table: `"${PROJECTOR_SCHEMA}".hosts_v1`,
      logger: 'projector:hosts',
      // The scheduler's limit: the status counts the hosts the scheduler would place on.
      silenceLimitMs: config.scheduler.hostSilenceLimitMs,
    });
  }
}
