import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CommandPatterns,
  stopMapReduceJobCommandSchema,
  submitMapReduceJobCommandSchema,
} from '@spindle/contracts';
import type { CommandResult, SubmitMapReduceJobCommand } from '@spindle/contracts';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { mapReduceJobCommands } from '../domain/mapreduce-job.decider';
import type { MapReduceJobCommand } from '../domain/mapreduce-job.decider';

// Clients submit and stop MapReduce jobs; the supervisor places them, the engine reports the rest.
@Controller()
export class MapReduceJobMessageController {
  constructor(private readonly commands: SchedulerCommandsService) {}

  @MessagePattern(CommandPatterns.submitMapReduceJob)
  submit(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(mapReduceJobCommands, 'submit', submitMapReduceJobCommandSchema, payload, {
      toCommand: (p: SubmitMapReduceJobCommand): MapReduceJobCommand => {
        const { correlationId: _c, issuedAt: _i, idempotencyKey: _k, ...job } = p;
        return { kind: 'submit', job };
      },
    });
  }

  @MessagePattern(CommandPatterns.stopMapReduceJob)
  stop(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(mapReduceJobCommands, 'stop', stopMapReduceJobCommandSchema, payload);
  }
}
