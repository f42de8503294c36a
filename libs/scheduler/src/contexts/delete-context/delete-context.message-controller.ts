import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, deleteContextCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { ContextCommandsService } from '../context-commands.service';

@Controller()
export class DeleteContextMessageController {
  constructor(private readonly contexts: ContextCommandsService) {}

  @MessagePattern(CommandPatterns.deleteContext)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.contexts.execute('delete', deleteContextCommandSchema, payload);
  }
}
