import { Global, Inject, Injectable, Logger, Module } from '@nestjs/common';
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ALL_COMMAND_TOPICS, ALL_DATA_TOPICS, ALL_EVENT_TOPICS, DEAD_LETTER_TOPIC } from '@spindle/contracts';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { InProcessMessageBus } from '../bus/in-process-message-bus';
import { KafkaMessageBus } from '../bus/kafka-message-bus';
import { MESSAGE_BUS } from '../bus/message-bus';
import type { MessageBus } from '../bus/message-bus';
import { PgNotifications } from '../database/pg-notifications';

export function createMessageBus(config: SpindleConfig): MessageBus {
  return config.bus === 'kafka' ? new KafkaMessageBus(config.kafka) : new InProcessMessageBus();
}

@Injectable()
class MessageBusLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('backbone');

  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  async onModuleInit(): Promise<void> {
    if (this.bus instanceof KafkaMessageBus) {
      await this.bus.ensureTopics([
        ...ALL_EVENT_TOPICS,
        ...ALL_DATA_TOPICS,
        ...ALL_COMMAND_TOPICS,
        DEAD_LETTER_TOPIC,
      ]);
    }
    this.logger.log(`message bus: ${this.bus.kind}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
    await PgNotifications.closeAll();
  }
}

// The process-wide message bus, Kafka or in-process by configuration.
@Global()
@Module({
  providers: [
    { provide: MESSAGE_BUS, inject: [SPINDLE_CONFIG], useFactory: createMessageBus },
    MessageBusLifecycle,
  ],
  exports: [MESSAGE_BUS],
})
export class BackboneModule {}
