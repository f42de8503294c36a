import { Module } from '@nestjs/common';
import { ServiceDatabaseModule, backboneMigrations } from '@spindle/backbone';

export const LOG_COLLECTOR_SCHEMA = 'log_collector';
export const LOG_COLLECTOR_CONNECTION = 'log-collector';

// Owns log lines of every task and worker, with line and byte offsets. Its schema and backbone tables (event store, outbox, checkpoints) exist from the
// start so its use cases arrive as slices, without plumbing.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: LOG_COLLECTOR_CONNECTION,
      schema: LOG_COLLECTOR_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(LOG_COLLECTOR_SCHEMA)],
      migrate: true,
    }),
  ],
})
export class LogCollectorModule {}
