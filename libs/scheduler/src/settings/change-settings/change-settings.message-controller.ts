import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, changeSettingsCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { settingsCommands } from '../domain/settings.decider';

@Controller()
export class ChangeSettingsMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.changeSettings)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(settingsCommands, 'change', changeSettingsCommandSchema, payload);
  }
}
