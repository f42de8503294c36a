import { Module } from '@nestjs/common';
import { ServiceDatabaseModule, backboneTablesMigration } from '@spindle/backbone';

export const ARTIFACT_STORE_SCHEMA = 'artifact_store';
export const ARTIFACT_STORE_CONNECTION = 'artifact-store';

// Owns artifact metadata and content-addressed blobs. Its schema and backbone tables (event store, outbox, checkpoints) exist from the
// start so its use cases arrive as slices, without plumbing.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: ARTIFACT_STORE_CONNECTION,
      schema: ARTIFACT_STORE_SCHEMA,
      entities: [],
      migrations: [backboneTablesMigration(ARTIFACT_STORE_SCHEMA)],
      migrate: true,
    }),
  ],
})
export class ArtifactStoreModule {}
