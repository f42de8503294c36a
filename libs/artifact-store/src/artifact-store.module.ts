import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { join, resolve } from 'node:path';
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
import {
  ARTIFACT_STORE_CONNECTION,
  ARTIFACT_STORE_EVENT_STORE,
  ARTIFACT_STORE_RELAY,
  ARTIFACT_STORE_SCHEMA,
} from './artifact-store.tokens';
import { ArtifactsInternalController } from './artifacts/artifacts.internal-controller';
import { OctetStreamPassThrough } from './artifacts/octet-stream.parser';
import { FilesystemBlobStore } from './blobs/blob-store';

// Owns artifact metadata (event-sourced, streams `artifact-<name>`) and content-addressed blobs
// under <SPINDLE_DATA_DIR>/artifacts.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: ARTIFACT_STORE_CONNECTION,
      schema: ARTIFACT_STORE_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(ARTIFACT_STORE_SCHEMA)],
      migrate: true,
    }),
  ],
  controllers: [ArtifactsInternalController],
  providers: [
    { provide: ARTIFACT_STORE_EVENT_STORE, useFactory: () => new PostgresEventStore(ARTIFACT_STORE_SCHEMA) },
    {
      provide: ARTIFACT_STORE_RELAY,
      inject: [getDataSourceToken(ARTIFACT_STORE_CONNECTION), MESSAGE_BUS, SPINDLE_CONFIG],
      useFactory: (dataSource: DataSource, bus: MessageBus, config: SpindleConfig) =>
        new ManagedOutboxRelay(dataSource, bus, {
          schema: ARTIFACT_STORE_SCHEMA,
          pollMs: config.outboxPollMs,
        }),
    },
    {
      provide: FilesystemBlobStore,
      inject: [SPINDLE_CONFIG],
      useFactory: (config: SpindleConfig) =>
        new FilesystemBlobStore(join(resolve(config.dataDir), 'artifacts')),
    },
    OctetStreamPassThrough,
  ],
})
export class ArtifactStoreModule {}
