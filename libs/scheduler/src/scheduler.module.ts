import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ManagedOutboxRelay,
  MESSAGE_BUS,
  PostgresEventStore,
  ServiceDatabaseModule,
  backboneMigrations,
} from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { CreateContextMessageController } from './contexts/create-context/create-context.message-controller';
import { DefaultContextInitializer } from './contexts/default-context.initializer';
import { DeleteContextMessageController } from './contexts/delete-context/delete-context.message-controller';
import { UpdateContextMessageController } from './contexts/update-context/update-context.message-controller';
import { ChangeFunctionMessageController } from './functions/change-function/change-function.message-controller';
import { DeleteFunctionMessageController } from './functions/delete-function/delete-function.message-controller';
import { RegisterFunctionMessageController } from './functions/register-function/register-function.message-controller';
import { SchedulerCommandsService } from './scheduler-commands.service';
import {
  SCHEDULER_CONNECTION,
  SCHEDULER_EVENT_STORE,
  SCHEDULER_OUTBOX_RELAY,
  SCHEDULER_SCHEMA,
} from './scheduler.tokens';

// The scheduler owns functions, contexts, jobs and workers. Today: contexts and functions.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: SCHEDULER_CONNECTION,
      schema: SCHEDULER_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(SCHEDULER_SCHEMA)],
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
  ],
  providers: [
    { provide: SCHEDULER_EVENT_STORE, useValue: new PostgresEventStore(SCHEDULER_SCHEMA) },
    {
      provide: SCHEDULER_OUTBOX_RELAY,
      inject: [getDataSourceToken(SCHEDULER_CONNECTION), MESSAGE_BUS, SPINDLE_CONFIG],
      useFactory: (dataSource: DataSource, bus: MessageBus, config: SpindleConfig) =>
        new ManagedOutboxRelay(dataSource, bus, { schema: SCHEDULER_SCHEMA, pollMs: config.outboxPollMs }),
    },
    SchedulerCommandsService,
    DefaultContextInitializer,
  ],
})
export class SchedulerModule {}
