import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, rescaleGroupCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { groupCommands } from '../domain/group.decider';

@Controller()
export class RescaleGroupMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.rescaleGroup)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(groupCommands, 'rescale', rescaleGroupCommandSchema, payload);
  }
}
