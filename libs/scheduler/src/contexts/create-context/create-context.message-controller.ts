import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, createContextCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { ContextCommandsService } from '../context-commands.service';

@Controller()
export class CreateContextMessageController {
  constructor(private readonly contexts: ContextCommandsService) {}

  @MessagePattern(CommandPatterns.createContext)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.contexts.execute('create', createContextCommandSchema, payload);
  }
}
