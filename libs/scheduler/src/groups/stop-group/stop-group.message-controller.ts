import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, groupNameCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { groupCommands } from '../domain/group.decider';

@Controller()
export class StopGroupMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.stopGroup)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(groupCommands, 'stop', groupNameCommandSchema, payload);
  }
}
