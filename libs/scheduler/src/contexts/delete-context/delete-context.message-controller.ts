import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, deleteContextCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { contextCommands } from '../domain/context.decider';

@Controller()
export class DeleteContextMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.deleteContext)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(contextCommands, 'delete', deleteContextCommandSchema, payload);
  }
}
