import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, changeFunctionCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { functionCommands } from '../domain/function.decider';

@Controller()
export class ChangeFunctionMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.changeFunction)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(functionCommands, 'change', changeFunctionCommandSchema, payload);
  }
}
