import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_CONTEXT_NAME,
  DEFAULT_CONTEXT_SETTINGS,
  createContextCommandSchema,
} from '@spindle/contracts';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { contextCommands } from './domain/context.decider';

// `default` always exists: created on first start, a no-op (conflict) on every later one.
@Injectable()
export class DefaultContextInitializer implements OnApplicationBootstrap {
  private readonly logger = new Logger('contexts');

  constructor(private readonly commands: SchedulerCommandsService) {}

  async onApplicationBootstrap(): Promise<void> {
    const result = await this.commands.execute(contextCommands, 'create', createContextCommandSchema, {
      correlationId: `bootstrap-${randomUUID()}`,
      issuedAt: new Date().toISOString(),
      name: DEFAULT_CONTEXT_NAME,
      settings: DEFAULT_CONTEXT_SETTINGS,
    });
    if (result.ok) this.logger.log('created the default context');
    else if (result.error.code !== 'conflict') throw new Error(`default context: ${result.error.message}`);
  }
}
