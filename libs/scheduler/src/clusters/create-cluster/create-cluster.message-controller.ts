import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, createClusterCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { clusterCommands } from '../domain/cluster.decider';

@Controller()
export class CreateClusterMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.createCluster)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(clusterCommands, 'create', createClusterCommandSchema, payload);
  }
}
