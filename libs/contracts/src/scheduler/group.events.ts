import { z } from 'zod';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { groupDefinitionSchema } from './group-definition';

export const groupEventDataSchemas = {
  'GroupCreated@1': z.object({
    id: z.string(),
    name: z.string(),
    scale: z.number().int(),
    definition: groupDefinitionSchema,
  }),
  // The absolute number of workers the group keeps from now on.
  'GroupRescaled@1': z.object({ id: z.string(), name: z.string(), scale: z.number().int() }),
  // Archived: its workers stop; the group stays readable until deleted.
  'GroupStopped@1': z.object({ id: z.string(), name: z.string() }),
  'GroupDeleted@1': z.object({ id: z.string(), name: z.string() }),
} as const;

type Schemas = typeof groupEventDataSchemas;
export type GroupCreatedV1 = EventData<Schemas['GroupCreated@1']>;
export type GroupRescaledV1 = EventData<Schemas['GroupRescaled@1']>;

// Everything that can happen to a group, on topic spindle.scheduler.group.v1.
export type GroupEvent = EventsOf<Schemas>;
export const isGroupEvent = isEventOf(groupEventDataSchemas);
