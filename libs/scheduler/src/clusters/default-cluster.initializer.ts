import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_CLUSTER_ID,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_CLUSTER_THREADS,
  createClusterCommandSchema,
} from '@spindle/contracts';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { clusterCommands } from './domain/cluster.decider';

// `default` (local: Spindle's own worker hosts) always exists: created on first start, a no-op
// (conflict) on every later one; it cannot be deleted.
@Injectable()
export class DefaultClusterInitializer implements OnApplicationBootstrap {
  private readonly logger = new Logger('clusters');

  constructor(private readonly commands: SchedulerCommandsService) {}

  async onApplicationBootstrap(): Promise<void> {
    const result = await this.commands.execute(clusterCommands, 'create', createClusterCommandSchema, {
      correlationId: `bootstrap-${randomUUID()}`,
      issuedAt: new Date().toISOString(),
      id: DEFAULT_CLUSTER_ID,
      name: DEFAULT_CLUSTER_NAME,
      type: 'local',
      definition: {
        description: "Spindle's worker hosts",
        sparkStorage: null,
        defaultApplicationConfig: null,
        settings: { threads: DEFAULT_CLUSTER_THREADS },
        storages: {},
      },
      secretId: null,
      secretFields: [],
    });
    if (result.ok) this.logger.log('created the default cluster');
    else if (result.error.code !== 'conflict') throw new Error(`default cluster: ${result.error.message}`);
  }
}
