import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, groupNameCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { groupCommands } from '../domain/group.decider';

@Controller()
export class DeleteGroupMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.deleteGroup)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(groupCommands, 'delete', groupNameCommandSchema, payload);
  }
}
