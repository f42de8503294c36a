import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, deleteClusterCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { clusterCommands } from '../domain/cluster.decider';

@Controller()
export class DeleteClusterMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.deleteCluster)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(clusterCommands, 'delete', deleteClusterCommandSchema, payload);
  }
}
