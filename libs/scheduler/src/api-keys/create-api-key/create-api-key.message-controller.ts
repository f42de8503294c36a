import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, createApiKeyCommandSchema } from '@spindle/contracts';
import type { CommandResult, CreateApiKeyCommand } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { apiKeyCommands } from '../domain/api-key.decider';

@Controller()
export class CreateApiKeyMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.createApiKey)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    // The whole command, issuedAt included: the decider checks the expiry against it.
    return this.commands.execute(apiKeyCommands, 'create', createApiKeyCommandSchema, payload, {
      toCommand: (command: CreateApiKeyCommand) => ({ kind: 'create' as const, ...command }),
      // Drawn afresh by the gateway on every try: a retry with the same Idempotency-Key is the same request.
      fingerprintOmits: ['keyId', 'verifier'],
    });
  }
}
