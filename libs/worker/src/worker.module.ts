import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  MESSAGE_BUS,
  ManagedOutboxRelay,
  PostgresEventStore,
  ServiceDatabaseModule,
  backboneMigrations,
} from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { WorkerAgent } from './agent/worker-agent';
import { MapReduceHost } from './mapreduce/mapreduce-host';
import {
  WORKER_CONNECTION,
  WORKER_EVENT_STORE,
  WORKER_OUTBOX_RELAY,
  WORKER_SCHEMA,
} from './agent/worker.tokens';

export { WORKER_CONNECTION, WORKER_SCHEMA };

// The worker host agent: runs worker processes and their tasks on this machine, ships their output
// and reports what happened, recorded in its own event store (schema `worker`).
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
  providers: [
    { provide: WORKER_EVENT_STORE, useFactory: () => new PostgresEventStore(WORKER_SCHEMA) },
    {
      provide: WORKER_OUTBOX_RELAY,
      inject: [getDataSourceToken(WORKER_CONNECTION), MESSAGE_BUS, SPINDLE_CONFIG],
      useFactory: (dataSource: DataSource, bus: MessageBus, config: SpindleConfig) =>
        new ManagedOutboxRelay(dataSource, bus, { schema: WORKER_SCHEMA, pollMs: config.outboxPollMs }),
    },
    WorkerAgent,
    MapReduceHost,
  ],
  exports: [WorkerAgent],
})
export class WorkerModule {}
