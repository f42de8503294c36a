import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  MESSAGE_BUS,
  EventConsumerRunner,
  ManagedEventConsumerGroup,
  ServiceDatabaseModule,
  backboneMigrations,
} from '@spindle/backbone';
import type { EventConsumer, MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import {
  ArtifactsV11763800000200,
  ClustersV11764800000100,
  ContextsV11763800000100,
  FunctionsV11763800000300,
  FunctionsV1Retries1763900000700,
  FunctionsV1Libraries1796500000100,
  HostsV1HeardUntil1796900000200,
  GroupsV11764900000300,
  JobsV11763900000400,
  JobsV1Source1763900000600,
  JobsV1Attempt1763900000800,
  JobsV1Labels1764900000310,
  SecretRefs1764700000100,
  SettingsV11764800000100,
  ServiceJobsV11764900000200,
  ClusterConfigV11764910000130,
  ApiKeysV11764900000100,
  MapReduceJobsV11796300000110,
  JobsV1Deleted1796400000100,
  EventResultsV11796400000200,
  PROJECTOR_CONNECTION,
  PROJECTOR_SCHEMA,
  READ_MODEL_ENTITIES,
} from '@spindle/read-models';
import { artifactsProjection } from './projections/artifacts/artifacts.projection';
import { functionsProjection } from './projections/functions/functions.projection';
import { clustersProjection } from './projections/clusters/clusters.projection';
import { groupsProjection } from './projections/groups/groups.projection';
import { contextsProjection } from './projections/contexts/contexts.projection';
import { jobsProjection } from './projections/jobs/jobs.projection';
import { settingsProjection } from './projections/settings/settings.projection';
import { serviceJobsProjection } from './projections/service-jobs/service-jobs.projection';
import { clusterConfigProjection } from './projections/cluster-config/cluster-config.projection';
import { apiKeysProjection } from './projections/api-keys/api-keys.projection';
import { mapReduceJobsProjection } from './projections/mapreduce/mapreduce-jobs.projection';
import { EventReductions } from './projections/event-results/event-reductions';
import { EventResultsListener } from './projections/event-results/event-results.listener';
import { HostsListener } from './projections/workers/hosts.listener';
import { workersProjection } from './projections/workers/workers.projection';

// Every read model and the consumer that keeps it.
export const PROJECTIONS: readonly EventConsumer[] = [
  contextsProjection,
  artifactsProjection,
  functionsProjection,
  jobsProjection,
  workersProjection,
  clustersProjection,
  groupsProjection,
  settingsProjection,
  serviceJobsProjection,
  clusterConfigProjection,
  apiKeysProjection,
  mapReduceJobsProjection,
];

// The projector's tables, for its module and for tools that open its schema (the rebuild).
export const PROJECTOR_ENTITIES = READ_MODEL_ENTITIES;
export const PROJECTOR_MIGRATIONS = [
  ...backboneMigrations(PROJECTOR_SCHEMA),
  ContextsV11763800000100,
  ArtifactsV11763800000200,
  FunctionsV11763800000300,
  JobsV11763900000400,
  JobsV1Source1763900000600,
  FunctionsV1Retries1763900000700,
  JobsV1Attempt1763900000800,
  SecretRefs1764700000100,
  ClustersV11764800000100,
  SettingsV11764800000100,
  GroupsV11764900000300,
  JobsV1Labels1764900000310,
  ServiceJobsV11764900000200,
  ClusterConfigV11764910000130,
  ApiKeysV11764900000100,
  MapReduceJobsV11796300000110,
  JobsV1Deleted1796400000100,
  EventResultsV11796400000200,
  FunctionsV1Libraries1796500000100,
  HostsV1HeardUntil1796900000200,
];

@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: PROJECTOR_CONNECTION,
      schema: PROJECTOR_SCHEMA,
      entities: PROJECTOR_ENTITIES,
      migrations: PROJECTOR_MIGRATIONS,
      migrate: true,
    }),
  ],
  providers: [
    HostsListener,
    EventResultsListener,
    EventReductions,
    {
      // Every read model's consumer, on one subscription of the bus (EventConsumerGroup).
      provide: 'projector:projections',
      inject: [getDataSourceToken(PROJECTOR_CONNECTION), MESSAGE_BUS, SPINDLE_CONFIG],
      useFactory: (dataSource: DataSource, bus: MessageBus, config: SpindleConfig) =>
        new ManagedEventConsumerGroup(
          bus,
          'projector.read-models',
          PROJECTIONS.map(
            (projection) =>
              new EventConsumerRunner(dataSource, bus, projection, {
                schema: PROJECTOR_SCHEMA,
                maxAttempts: config.consumerMaxAttempts,
              }),
          ),
        ),
    },
  ],
})
export class ProjectorModule {}
