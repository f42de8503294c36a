import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CommandPatterns,
  createServiceJobCommandSchema,
  deleteServiceJobCommandSchema,
  scaleServiceJobCommandSchema,
  startServiceJobCommandSchema,
  stopServiceJobCommandSchema,
} from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { serviceJobCommands } from '../domain/service-job.decider';

// The clients' commands on service jobs, one pattern each, all decided by the service job's decider
// through the command engine; the supervisor then runs (or stops) the instances they call for.
@Controller()
export class ServiceJobMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.createServiceJob)
  create(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(serviceJobCommands, 'create', createServiceJobCommandSchema, payload);
  }

  @MessagePattern(CommandPatterns.startServiceJob)
  start(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(serviceJobCommands, 'start', startServiceJobCommandSchema, payload);
  }

  @MessagePattern(CommandPatterns.stopServiceJob)
  stop(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(serviceJobCommands, 'stop', stopServiceJobCommandSchema, payload);
  }

  @MessagePattern(CommandPatterns.scaleServiceJob)
  scale(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(serviceJobCommands, 'scale', scaleServiceJobCommandSchema, payload);
  }

  @MessagePattern(CommandPatterns.deleteServiceJob)
  remove(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(serviceJobCommands, 'delete', deleteServiceJobCommandSchema, payload);
  }
}
