import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CommandPatterns, commandFailed, functionStreamId, submitJobCommandSchema } from '@spindle/contracts';
import type { CommandResult, SubmitJobCommand } from '@spindle/contracts';
import type { PostgresEventStore } from '@spindle/backbone';
import { functionDecider } from '../../functions/domain/function.decider';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_EVENT_STORE, SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { jobCommands } from '../domain/job.decider';
import type { JobCommand } from '../domain/job.decider';

// Accepts a job into its context's queue. The gateway looked the function and context up in the
// read models; here they are checked again against the scheduler's own state, which is the truth.
@Controller()
export class SubmitJobMessageController {
  constructor(
    private readonly commands: SchedulerCommandsService,
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SCHEDULER_EVENT_STORE) private readonly store: PostgresEventStore,
  ) {}

  @MessagePattern(CommandPatterns.submitJob)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    return this.commands.execute(jobCommands, 'submit', submitJobCommandSchema, payload, {
      toCommand: (command: SubmitJobCommand) => this.toSubmit(command),
      fingerprintOmits: ['id'], // the gateway draws a fresh id for every attempt
    });
  }

  private async toSubmit(command: SubmitJobCommand): Promise<JobCommand | CommandResult> {
    const history = await this.store.readStream(this.dataSource.manager, functionStreamId(command.function));
    const fn = history.reduce(functionDecider.evolve, functionDecider.initialState);
    if (fn.status !== 'registered')
      return commandFailed('not_found', `function ${command.function} does not exist`, 'function');
    if (fn.definition.artifact !== command.artifact)
      return commandFailed(
        'conflict',
        `function ${command.function} changed while the job was submitted; retry`,
      );
    const context = command.context ?? fn.definition.defaultContext;
    const rows: { deleted: boolean }[] = await this.dataSource.query(
      `select deleted from "${SCHEDULER_SCHEMA}".dispatch_contexts where name = $1`,
      [context],
    );
    if (!rows[0] || rows[0].deleted)
      return commandFailed('invalid', `context ${context} does not exist`, 'context');
    return {
      kind: 'submit',
      id: command.id,
      job: {
        id: command.id,
        function: command.function,
        context,
        args: command.args,
        program: {
          artifact: command.artifact,
          sha256: command.artifactSha256,
          entrypoint: fn.definition.entrypoint,
          runtime: fn.definition.runtime,
        },
        externalId: command.externalId ?? null,
        startTimeoutMs: command.startTimeoutMs ?? null,
        performTimeoutMs: command.performTimeoutMs ?? null,
        // Left out when the sender did not say (a gateway older than sources): unknown, not guessed.
        ...(command.source === undefined ? {} : { source: command.source }),
      },
    };
  }
}
