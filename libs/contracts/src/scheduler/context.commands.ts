import { z } from 'zod';
import { contextNameSchema, contextSettingsSchema } from './context-settings';

const metadata = {
  correlationId: z.string().min(1).max(200),
  // Time is decided at the edge and carried in, so decisions stay pure and replayable.
  issuedAt: z.iso.datetime({ offset: true }),
  // The client's Idempotency-Key header, when it sent one.
  idempotencyKey: z.string().min(1).max(255).optional(),
};

export const createContextCommandSchema = z.object({
  ...metadata,
  name: contextNameSchema,
  settings: contextSettingsSchema,
});
export type CreateContextCommand = z.infer<typeof createContextCommandSchema>;

export const updateContextCommandSchema = z.object({
  ...metadata,
  name: contextNameSchema,
  settings: contextSettingsSchema,
});
export type UpdateContextCommand = z.infer<typeof updateContextCommandSchema>;

export const deleteContextCommandSchema = z.object({
  ...metadata,
  name: contextNameSchema,
});
export type DeleteContextCommand = z.infer<typeof deleteContextCommandSchema>;
