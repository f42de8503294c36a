import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, updateContextCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { ContextCommandsService } from '../context-commands.service';

@Controller()
export class UpdateContextMessageController {
  constructor(private readonly contexts: ContextCommandsService) {}

  @MessagePattern(CommandPatterns.updateContext)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.contexts.execute('update', updateContextCommandSchema, payload);
  }
}
