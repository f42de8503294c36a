import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ManagedEventConsumerRunner,
  ManagedOutboxRelay,
  MESSAGE_BUS,
  PostgresEventStore,
  ServiceDatabaseModule,
} from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { CreateClusterMessageController } from './clusters/create-cluster/create-cluster.message-controller';
import { DefaultClusterInitializer } from './clusters/default-cluster.initializer';
import { DeleteClusterMessageController } from './clusters/delete-cluster/delete-cluster.message-controller';
import { CreateGroupMessageController } from './groups/create-group/create-group.message-controller';
import { DeleteGroupMessageController } from './groups/delete-group/delete-group.message-controller';
import { RescaleGroupMessageController } from './groups/rescale-group/rescale-group.message-controller';
import { StopGroupMessageController } from './groups/stop-group/stop-group.message-controller';
import { CreateContextMessageController } from './contexts/create-context/create-context.message-controller';
import { DefaultContextInitializer } from './contexts/default-context.initializer';
import { DeleteContextMessageController } from './contexts/delete-context/delete-context.message-controller';
import { CreateApiKeyMessageController } from './api-keys/create-api-key/create-api-key.message-controller';
import { RevokeApiKeyMessageController } from './api-keys/revoke-api-key/revoke-api-key.message-controller';
import { ChangeSettingsMessageController } from './settings/change-settings/change-settings.message-controller';
import { ReplaceLogCatalogueMessageController } from './cluster-config/replace-log-catalogue/replace-log-catalogue.message-controller';
import { SetLoggerLevelsMessageController } from './cluster-config/set-logger-levels/set-logger-levels.message-controller';
import { ReplaceEventRulesMessageController } from './cluster-config/replace-event-rules/replace-event-rules.message-controller';
import { UpdateContextMessageController } from './contexts/update-context/update-context.message-controller';
import { ChangeFunctionMessageController } from './functions/change-function/change-function.message-controller';
import { DeleteFunctionMessageController } from './functions/delete-function/delete-function.message-controller';
import { RegisterFunctionMessageController } from './functions/register-function/register-function.message-controller';
import { agentReportsConsumer } from './dispatch/agent-reports.consumer';
import { Dispatcher } from './dispatch/dispatcher';
import { HeartbeatsListener } from './dispatch/heartbeats.listener';
import { CancelJobMessageController } from './jobs/cancel-job/cancel-job.message-controller';
import { DeleteJobMessageController } from './jobs/delete-job/delete-job.message-controller';
import { JobIntake } from './jobs/submit-job/job-intake';
import { SubmitJobMessageController } from './jobs/submit-job/submit-job.message-controller';
import { SchedulerCommandsService } from './scheduler-commands.service';
import { SCHEDULER_MIGRATIONS } from './scheduler.migrations';
import { ServiceJobMessageController } from './service-jobs/commands/service-job.message-controllers';
import { ServiceJobSupervisor } from './service-jobs/supervise/service-job-supervisor';
import { MapReduceJobMessageController } from './mapreduce/commands/mapreduce-job.message-controller';
import { MapReduceSupervisor } from './mapreduce/supervise/mapreduce-supervisor';
import { StopWorkerMessageController } from './workers/stop-worker/stop-worker.message-controller';
import {
  SCHEDULER_CONNECTION,
  SCHEDULER_EVENT_STORE,
  SCHEDULER_OUTBOX_RELAY,
  SCHEDULER_SCHEMA,
} from './scheduler.tokens';
import { hostDelivery } from './dispatch/host-delivery';

// The scheduler owns functions, contexts, clusters, jobs and workers: it accepts jobs, places them on worker
// hosts, keeps their time, and turns what worker agents report into job and worker events.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: SCHEDULER_CONNECTION,
      schema: SCHEDULER_SCHEMA,
      entities: [],
      migrations: SCHEDULER_MIGRATIONS,
      migrate: true,
    }),
  ],
  controllers: [
    CreateContextMessageController,
    UpdateContextMessageController,
    DeleteContextMessageController,
    RegisterFunctionMessageController,
    ChangeFunctionMessageController,
    DeleteFunctionMessageController,
    SubmitJobMessageController,
    CancelJobMessageController,
    DeleteJobMessageController,
    StopWorkerMessageController,
    CreateClusterMessageController,
    DeleteClusterMessageController,
    CreateGroupMessageController,
    RescaleGroupMessageController,
    StopGroupMessageController,
    DeleteGroupMessageController,
    ChangeSettingsMessageController,
    ServiceJobMessageController,
    ReplaceLogCatalogueMessageController,
    SetLoggerLevelsMessageController,
    ReplaceEventRulesMessageController,
    CreateApiKeyMessageController,
    RevokeApiKeyMessageController,
    MapReduceJobMessageController,
  ],
  providers: [
    JobIntake,
    {
      provide: SCHEDULER_EVENT_STORE,
      useFactory: () => new PostgresEventStore(SCHEDULER_SCHEMA, hostDelivery),
    },
    {
      provide: SCHEDULER_OUTBOX_RELAY,
      inject: [getDataSourceToken(SCHEDULER_CONNECTION), MESSAGE_BUS, SPINDLE_CONFIG],
      useFactory: (dataSource: DataSource, bus: MessageBus, config: SpindleConfig) =>
        new ManagedOutboxRelay(dataSource, bus, { schema: SCHEDULER_SCHEMA, pollMs: config.outboxPollMs }),
    },
    SchedulerCommandsService,
    DefaultContextInitializer,
    DefaultClusterInitializer,
    Dispatcher,
    ServiceJobSupervisor,
    MapReduceSupervisor,
    HeartbeatsListener,
    {
      provide: 'scheduler.agent-reports',
      inject: [
        getDataSourceToken(SCHEDULER_CONNECTION),
        MESSAGE_BUS,
        SPINDLE_CONFIG,
        SchedulerCommandsService,
      ],
      useFactory: (
        dataSource: DataSource,
        bus: MessageBus,
        config: SpindleConfig,
        commands: SchedulerCommandsService,
      ) =>
        new ManagedEventConsumerRunner(dataSource, bus, agentReportsConsumer(commands), {
          schema: SCHEDULER_SCHEMA,
          maxAttempts: config.consumerMaxAttempts,
        }),
    },
  ],
})
export class SchedulerModule {}
