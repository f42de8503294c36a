import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { CommandPatterns, DEFAULT_CONTEXT_NAME } from '@spindle/contracts';
import { ProblemException, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ContextsQuery } from '@spindle/read-models';
import { CommandSender } from '../../commands/command-sender';
import { mistBadRequest } from './mist-errors.filter';

// Mist runs a job in an unknown context with the default settings under that name. Spindle makes
// that context real (it then shows in lists and can be changed), with `default`'s settings.
@Injectable()
export class MistContexts {
  constructor(
    private readonly commands: CommandSender,
    private readonly contexts: ContextsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  async ensure(name: string, correlationId: string): Promise<void> {
    if (await this.contexts.findByName(name)) return;
    const defaults = await this.contexts.findByName(DEFAULT_CONTEXT_NAME);
    if (!defaults) throw mistBadRequest('the default context is missing');
    try {
      const command = { name, settings: defaults.settings };
      const accepted = await this.commands.send(CommandPatterns.createContext, command, { correlationId });
      await this.contexts.waitForPosition(
        accepted.streamId,
        accepted.streamPosition,
        this.config.readYourWritesTimeoutMs,
      );
    } catch (e) {
      // Created meanwhile by another request: fine. Anything else is an answer of its own.
      if (!(e instanceof ProblemException && e.getStatus() === (HttpStatus.CONFLICT as number))) throw e;
    }
  }
}
