import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ClusterConfigQuery } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import { awaitVisible } from '../read-back';
import { violationsOf } from '../settings/installation-settings.service';

// Changes to the cluster's configuration documents (log catalogue, loggers, event rules): a body
// is validated at the edge, decided by the scheduler, and answered once the read model has it.
@Injectable()
export class ClusterConfigService {
  constructor(
    private readonly commands: CommandSender,
    private readonly query: ClusterConfigQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  // A bad body is a 400 naming each path (`0.logLevel`), and nothing is sent.
  parse<T>(schema: z.ZodType<T>, body: unknown, knownAs: string): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ValidationProblem(violationsOf(parsed.error, knownAs));
    return parsed.data;
  }

  async change(pattern: string, streamId: string, command: object): Promise<void> {
    const accepted = await this.commands.send(pattern, command);
    await awaitVisible(
      streamId,
      this.query.waitForPosition(streamId, accepted.streamPosition, this.config.readYourWritesTimeoutMs),
    );
  }
}
