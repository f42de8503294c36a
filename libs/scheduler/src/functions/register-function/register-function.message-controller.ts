import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, registerFunctionCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { functionCommands } from '../domain/function.decider';

@Controller()
export class RegisterFunctionMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.registerFunction)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(functionCommands, 'register', registerFunctionCommandSchema, payload);
  }
}
