import { Module } from '@nestjs/common';
import { ServiceDatabaseModule, backboneMigrations } from '@spindle/backbone';

export const WORKER_SCHEMA = 'worker';
export const WORKER_CONNECTION = 'worker';

// Owns the execution host agent: task processes, their output, heartbeats. Its schema and backbone tables (event store, outbox, checkpoints) exist from the
// start so its use cases arrive as slices, without plumbing.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: WORKER_CONNECTION,
      schema: WORKER_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(WORKER_SCHEMA)],
      migrate: true,
    }),
  ],
})
export class WorkerModule {}
