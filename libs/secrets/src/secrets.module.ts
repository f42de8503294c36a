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
import { MasterKeys } from './crypto/master-keys';
import { KeyRotation } from './rotation/key-rotation';
import { SecretTables1764700000000 } from './secrets/secret-tables.migration';
import { SecretVault } from './secrets/secret-vault';
import { SecretsInternalController } from './secrets/secrets.internal-controller';
import { SECRETS_CONNECTION, SECRETS_EVENT_STORE, SECRETS_RELAY, SECRETS_SCHEMA } from './secrets.tokens';

// Owns secret maps, encrypted at rest (AES-256-GCM envelopes under a master key), the only holder
// of plaintext. Event-sourced (streams `secret-<id>`, events with names only); sealed values in
// secrets.secret_versions; plaintext leaves only over its internal HTTP routes.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: SECRETS_CONNECTION,
      schema: SECRETS_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(SECRETS_SCHEMA), SecretTables1764700000000],
      migrate: true,
    }),
  ],
  controllers: [SecretsInternalController],
  providers: [
    { provide: SECRETS_EVENT_STORE, useFactory: () => new PostgresEventStore(SECRETS_SCHEMA) },
    {
      provide: SECRETS_RELAY,
      inject: [getDataSourceToken(SECRETS_CONNECTION), MESSAGE_BUS, SPINDLE_CONFIG],
      useFactory: (dataSource: DataSource, bus: MessageBus, config: SpindleConfig) =>
        new ManagedOutboxRelay(dataSource, bus, { schema: SECRETS_SCHEMA, pollMs: config.outboxPollMs }),
    },
    MasterKeys,
    SecretVault,
    KeyRotation,
  ],
})
export class SecretsModule {}
