import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { CommandPatterns, settingsInputSchema } from '@spindle/contracts';
import type { InstallationSettings } from '@spindle/contracts';
import { SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { FieldViolation, SpindleConfig } from '@spindle/platform';
import { SettingsQuery } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import { awaitVisible } from '../read-back';

// Reading and changing the installation's settings, once, for the native API and Genvid's: a
// document is validated against the published schema, completed with defaults, decided by the
// scheduler (stream `settings`) and answered once the read model has it.
@Injectable()
export class InstallationSettingsService {
  constructor(
    private readonly commands: CommandSender,
    private readonly settings: SettingsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  current(): Promise<InstallationSettings> {
    return this.settings.current();
  }

  async change(document: unknown, correlationId: string): Promise<InstallationSettings> {
    const parsed = settingsInputSchema.safeParse(document);
    if (!parsed.success) throw new ValidationProblem(violationsOf(parsed.error));
    const command = { settings: parsed.data };
    const accepted = await this.commands.send(CommandPatterns.changeSettings, command, { correlationId });
    await awaitVisible(
      'settings',
      this.settings.waitForPosition(accepted.streamPosition, this.config.readYourWritesTimeoutMs),
    );
    return this.settings.current();
  }
}

// One violation per invalid path (`jobs.startTimeoutMs`), an unknown key named by its own path.
export function violationsOf(error: z.ZodError, knownAs = 'a setting'): FieldViolation[] {
  return error.issues.flatMap((issue): FieldViolation[] => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => {
        const field = [...at, key].join('.');
        return { field, rule: issue.code, message: `${field} is not ${knownAs}` };
      });
    const field = at.join('.') || '(document)';
    return [{ field, rule: issue.code, message: `${field}: ${issue.message}` }];
  });
}
