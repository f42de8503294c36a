import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CommandPatterns, EventTopics, commandFailed, submitJobCommandSchema } from '@spindle/contracts';
import type { CommandResult } from '@spindle/contracts';
import { idempotencyOf } from '@spindle/backbone';
import { JobIntake } from './job-intake';

// Accepts a job into its context's queue: validated here, at the edge of the scheduler, then
// decided and recorded by the intake together with the other submits of the moment.
@Controller()
export class SubmitJobMessageController {
  constructor(private readonly intake: JobIntake) {}

  @MessagePattern(CommandPatterns.submitJob)
  handle(@Payload() payload: unknown): Promise<CommandResult> {
    const parsed = submitJobCommandSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return Promise.resolve(
        commandFailed('invalid', issue?.message ?? 'invalid command', issue?.path.join('.')),
      );
    }
    const { correlationId: _c, issuedAt: _i, idempotencyKey, ...request } = parsed.data;
    // The gateway draws a fresh id for every attempt: it is not part of what makes two requests the same.
    const idempotency = idempotencyOf(EventTopics.schedulerJob, 'submit', idempotencyKey, request, ['id']);
    return this.intake.submit(parsed.data, idempotency);
  }
}
