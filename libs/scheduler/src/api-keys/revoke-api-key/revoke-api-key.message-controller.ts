import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, revokeApiKeyCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { apiKeyCommands } from '../domain/api-key.decider';

@Controller()
export class RevokeApiKeyMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.revokeApiKey)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(apiKeyCommands, 'revoke', revokeApiKeyCommandSchema, payload);
  }
}
