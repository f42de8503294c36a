import { Module } from '@nestjs/common';
import { ServiceDatabaseModule, backboneMigrations } from '@spindle/backbone';

export const SECRETS_SCHEMA = 'secrets';
export const SECRETS_CONNECTION = 'secrets';

// Owns secret maps, encrypted at rest. Its schema and backbone tables (event store, outbox, checkpoints) exist from the
// start so its use cases arrive as slices, without plumbing.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: SECRETS_CONNECTION,
      schema: SECRETS_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(SECRETS_SCHEMA)],
      migrate: true,
    }),
  ],
})
export class SecretsModule {}
