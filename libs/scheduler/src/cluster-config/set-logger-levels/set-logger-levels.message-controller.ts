import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, setLoggerLevelsCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { clusterConfigCommands } from '../domain/cluster-config.decider';

@Controller()
export class SetLoggerLevelsMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.setLoggerLevels)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(
      clusterConfigCommands,
      'set-logger-levels',
      setLoggerLevelsCommandSchema,
      payload,
    );
  }
}
