import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, cancelJobCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { jobCommands } from '../domain/job.decider';

// Idempotent: a queued job is cancelled at once, a placed one asks its worker agent to stop it, a
// finished one is left as it is.
@Controller()
export class CancelJobMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.cancelJob)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(jobCommands, 'cancel', cancelJobCommandSchema, payload);
  }
}
