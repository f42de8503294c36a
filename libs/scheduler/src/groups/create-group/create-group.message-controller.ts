import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, createGroupCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { groupCommands } from '../domain/group.decider';

@Controller()
export class CreateGroupMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.createGroup)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(groupCommands, 'create', createGroupCommandSchema, payload, {
      // The id is chosen by the gateway per attempt: a retry with the same key is the same request.
      fingerprintOmits: ['id'],
    });
  }
}
