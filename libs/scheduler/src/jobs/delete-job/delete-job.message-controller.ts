import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, deleteJobCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { jobCommands } from '../domain/job.decider';

// Forgets an ended job (its events stay); a job that has not ended is a conflict. Idempotent.
@Controller()
export class DeleteJobMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.deleteJob)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(jobCommands, 'delete', deleteJobCommandSchema, payload);
  }
}
