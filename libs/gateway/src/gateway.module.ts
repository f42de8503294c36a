import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CommandBus, ServiceDatabaseModule, createCommandClient } from '@spindle/backbone';
import { CommandPatterns } from '@spindle/contracts';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import {
  ApiKeysQuery,
  MapReduceJobsQuery,
  ArtifactsQuery,
  ClusterConfigQuery,
  ClusterJobsQuery,
  ClustersQuery,
  ContextsQuery,
  FeedQuery,
  FunctionsQuery,
  GroupsQuery,
  JobsQuery,
  WorkersQuery,
  PROJECTOR_SCHEMA,
  READ_MODELS_CONNECTION,
  ReadBarrier,
  SettingsQuery,
  ServiceJobsQuery,
  StatusQuery,
  READ_MODEL_ENTITIES,
} from '@spindle/read-models';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator';
import { ApiKeyGuard } from './auth/api-key.guard';
import { StreamSlots } from './auth/stream-slots';
import { ApiKeysController } from './auth/api-keys.controller';
import { ApiKeys } from './auth/api-keys.service';
import { ArtifactStoreClient } from './artifacts/artifact-store.client';
import { ArtifactUploads } from './artifacts/artifact-uploads.service';
import { ArtifactsController } from './artifacts/artifacts.controller';
import { ClusterDefinitions } from './clusters/cluster-definitions.service';
import { ClustersController } from './clusters/clusters.controller';
import { GroupDefinitions } from './groups/group-definitions.service';
import { GroupsController } from './groups/groups.controller';
import { MapReduceJobs } from './mapreduce/mapreduce-jobs.service';
import { MapReduceJobsController } from './mapreduce/mapreduce-jobs.controller';
import { CommandSender, GATEWAY_COMMAND_BUS } from './commands/command-sender';
import { ConsistentReadInterceptor } from './consistency/consistent-read';
import { ContextsController } from './contexts/contexts.controller';
import { FunctionReferences } from './functions/function-references';
import { FunctionsController } from './functions/functions.controller';
import { EventsController } from './events/events.controller';
import { FeedHub } from './events/feed-hub';
import { JobSubmission } from './jobs/job-submission.service';
import { JobsController } from './jobs/jobs.controller';
import { LogCollectorClient } from './logs/log-collector.client';
import { LogsController } from './logs/logs.controller';
import { NamedResources } from './resources/named-resource';
import { SecretsClient } from './secrets/secrets.client';
import { SecretsController } from './secrets/secrets.controller';
import { StatusController } from './status/status.controller';
import { InstallationSettingsService } from './settings/installation-settings.service';
import { SettingsController } from './settings/settings.controller';
import { WorkersController } from './workers/workers.controller';
import { ServiceJobsChanges } from './service-jobs/service-jobs-changes';
import { ClusterConfigController } from './cluster-config/cluster-config.controller';
import { ClusterConfigService } from './cluster-config/cluster-config.service';
import { ServiceJobsController } from './service-jobs/service-jobs.controller';
import { ServiceJobDefinitions } from './service-jobs/service-job-definitions';

const PATTERNS = Object.values(CommandPatterns);

// The HTTP edge: validates, sends commands to owners, reads read models. Owns no tables.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: READ_MODELS_CONNECTION,
      schema: PROJECTOR_SCHEMA,
      entities: READ_MODEL_ENTITIES,
      migrations: [],
      migrate: false,
    }),
  ],
  controllers: [
    ContextsController,
    ArtifactsController,
    FunctionsController,
    JobsController,
    LogsController,
    WorkersController,
    EventsController,
    SecretsController,
    SettingsController,
    StatusController,
    ClustersController,
    GroupsController,
    ServiceJobsController,
    ClusterConfigController,
    ApiKeysController,
    MapReduceJobsController,
  ],
  providers: [
    {
      provide: GATEWAY_COMMAND_BUS,
      inject: [SPINDLE_CONFIG],
      useFactory: (config: SpindleConfig) =>
        new CommandBus(createCommandClient(config, 'gateway', PATTERNS), PATTERNS, config.commandTimeoutMs),
    },
    CommandSender,
    NamedResources,
    FunctionReferences,
    ReadBarrier,
    { provide: APP_INTERCEPTOR, useClass: ConsistentReadInterceptor },
    ContextsQuery,
    ArtifactsQuery,
    FunctionsQuery,
    JobsQuery,
    JobSubmission,
    WorkersQuery,
    FeedQuery,
    FeedHub,
    ArtifactStoreClient,
    ArtifactUploads,
    LogCollectorClient,
    SecretsClient,
    ClustersQuery,
    ClusterJobsQuery,
    ClusterDefinitions,
    GroupsQuery,
    GroupDefinitions,
    SettingsQuery,
    InstallationSettingsService,
    ServiceJobsQuery,
    ServiceJobDefinitions,
    ServiceJobsChanges,
    ClusterConfigQuery,
    ClusterConfigService,
    StatusQuery,
    ApiKeysQuery,
    ApiKeys,
    MapReduceJobsQuery,
    MapReduceJobs,
    ApiKeyAuthenticator,
    ApiKeyGuard,
    StreamSlots,
    { provide: APP_GUARD, useExisting: ApiKeyGuard },
  ],
  // For the dialects, which map their APIs onto the same core.
  exports: [
    CommandSender,
    StreamSlots,
    NamedResources,
    ContextsQuery,
    ArtifactsQuery,
    FunctionsQuery,
    JobsQuery,
    JobSubmission,
    WorkersQuery,
    ArtifactStoreClient,
    ArtifactUploads,
    LogCollectorClient,
    ClustersQuery,
    ClusterJobsQuery,
    ClusterDefinitions,
    GroupsQuery,
    GroupDefinitions,
    FeedHub,
    SecretsClient,
    SettingsQuery,
    InstallationSettingsService,
    ServiceJobsQuery,
    ServiceJobDefinitions,
    ServiceJobsChanges,
    ClusterConfigQuery,
    ClusterConfigService,
    ApiKeys,
    ApiKeysQuery,
    MapReduceJobsQuery,
    MapReduceJobs,
  ],
})
export class GatewayModule {}
