import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, replaceLogCatalogueCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { clusterConfigCommands } from '../domain/cluster-config.decider';

@Controller()
export class ReplaceLogCatalogueMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.replaceLogCatalogue)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(
      clusterConfigCommands,
      'replace-log-catalogue',
      replaceLogCatalogueCommandSchema,
      payload,
    );
  }
}
