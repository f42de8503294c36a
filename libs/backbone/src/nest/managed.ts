import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus } from '../bus/message-bus';
import type { EventConsumer } from '../consumer/event-consumer';
import { EventConsumerGroup } from '../consumer/event-consumer-group';
import { EventConsumerRunner } from '../consumer/event-consumer-runner';
import type { EventConsumerRunnerOptions } from '../consumer/event-consumer-runner';
import { GrowingTableAnalyzer } from '../database/growing-tables';
import { OutboxRelay } from '../outbox/outbox-relay';
import type { OutboxRelayOptions } from '../outbox/outbox-relay';

// Lifecycle-bound versions for Nest: consumers subscribe during module init, before any relay
// starts publishing at bootstrap, so in standalone mode no event is published to nobody.

export class ManagedOutboxRelay
  extends OutboxRelay
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(dataSource: DataSource, bus: MessageBus, options: OutboxRelayOptions) {
    super(dataSource, bus, options);
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

export class ManagedEventConsumerRunner
  extends EventConsumerRunner
  implements OnModuleInit, BeforeApplicationShutdown
{
  constructor(
    dataSource: DataSource,
    bus: MessageBus,
    consumer: EventConsumer,
    options: EventConsumerRunnerOptions,
  ) {
    super(dataSource, bus, consumer, options);
  }

  async onModuleInit(): Promise<void> {
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

export class ManagedEventConsumerGroup
  extends EventConsumerGroup
  implements OnModuleInit, BeforeApplicationShutdown
{
  async onModuleInit(): Promise<void> {
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

export class ManagedGrowingTableAnalyzer
  extends GrowingTableAnalyzer
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  onApplicationBootstrap(): void {
    this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
