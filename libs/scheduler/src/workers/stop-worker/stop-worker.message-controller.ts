import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, stopWorkerCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { workerCommands } from '../domain/worker.decider';

// A stop by request: the worker's agent lets what runs there end (cancelling it past the grace
// the request gives, at once without one) and ends the process.
@Controller()
export class StopWorkerMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.stopWorker)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(workerCommands, 'stop', stopWorkerCommandSchema, payload, {
      toCommand: (command: { id: string; graceMs?: number | null }) => ({
        kind: 'stop' as const,
        id: command.id,
        reason: 'stopped by request',
        ...(command.graceMs === undefined ? {} : { graceMs: command.graceMs }),
      }),
    });
  }
}
