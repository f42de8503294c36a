import { z } from 'zod';
import { installationSettingsSchema } from './installation-settings';

// Replace the settings with a whole document (the gateway completes it with defaults first).
export const changeSettingsCommandSchema = z.object({
  correlationId: z.string().min(1).max(200),
  issuedAt: z.iso.datetime({ offset: true }),
  settings: installationSettingsSchema,
});
export type ChangeSettingsCommand = z.infer<typeof changeSettingsCommandSchema>;
