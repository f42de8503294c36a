import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, deleteFunctionCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { functionCommands } from '../domain/function.decider';

@Controller()
export class DeleteFunctionMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.deleteFunction)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(functionCommands, 'delete', deleteFunctionCommandSchema, payload);
  }
}
