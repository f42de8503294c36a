import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, stopWorkerCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { workerCommands } from '../domain/worker.decider';

// A graceful stop: the worker's agent cancels what still runs there and ends the process.
@Controller()
export class StopWorkerMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.stopWorker)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(workerCommands, 'stop', stopWorkerCommandSchema, payload, {
      toCommand: (command: { id: string }) => ({
        kind: 'stop' as const,
        id: command.id,
        reason: 'stopped by request',
      }),
    });
  }
}
