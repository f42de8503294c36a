import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, replaceEventRulesCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { clusterConfigCommands } from '../domain/cluster-config.decider';

@Controller()
export class ReplaceEventRulesMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.replaceEventRules)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(
      clusterConfigCommands,
      'replace-event-rules',
      replaceEventRulesCommandSchema,
      payload,
    );
  }
}
