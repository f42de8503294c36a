import { z } from 'zod';
import { eventEnvelopeSchema } from './envelope';
import type { EventEnvelope, EventSchemas, EventsOf, NewEvent } from './envelope';
import { artifactEventDataSchemas } from './artifacts/artifact.events';
import { contextEventDataSchemas } from './scheduler/context.events';
import { clusterEventDataSchemas } from './scheduler/cluster.events';
import { groupEventDataSchemas } from './scheduler/group.events';
import { functionEventDataSchemas } from './scheduler/function.events';
import { jobEventDataSchemas } from './scheduler/job.events';
import { workerEventDataSchemas } from './scheduler/worker.events';
import { agentReportDataSchemas } from './worker/agent-reports';
import { secretEventDataSchemas } from './secrets/secret.events';
import { settingsEventDataSchemas } from './scheduler/settings.events';
import { serviceJobEventDataSchemas } from './scheduler/service-job.events';
import { clusterConfigEventDataSchemas } from './cluster-config/cluster-config.events';
import { apiKeyEventDataSchemas } from './auth/api-key.events';
import { mapReduceJobEventDataSchemas } from './mapreduce/mapreduce-job.events';

// All event payload schemas by `type@version`. A consumer validates every message it reads
// against this registry before it lets a projection see it; the event store validates every event
// it writes.
export const eventDataSchemas = {
  ...contextEventDataSchemas,
  ...artifactEventDataSchemas,
  ...functionEventDataSchemas,
  ...jobEventDataSchemas,
  ...workerEventDataSchemas,
  ...agentReportDataSchemas,
  ...secretEventDataSchemas,
  ...clusterEventDataSchemas,
  ...groupEventDataSchemas,
  ...settingsEventDataSchemas,
  ...serviceJobEventDataSchemas,
  ...clusterConfigEventDataSchemas,
  ...apiKeyEventDataSchemas,
  ...mapReduceJobEventDataSchemas,
} as const satisfies EventSchemas;

// Every registered event, as the registry parses it: a union discriminated by `type`.
export type SpindleEvent = EventsOf<typeof eventDataSchemas>;
export type SpindleEventType = SpindleEvent['type'];

const schemaByKey: ReadonlyMap<string, z.ZodType> = new Map(Object.entries(eventDataSchemas));

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

function dataSchemaOf(type: string, version: number): z.ZodType {
  const schema = schemaByKey.get(`${type}@${version}`);
  if (!schema) throw new InvalidEventError(`unknown event type ${type}@${version}`);
  return schema;
}

export function parseEvent(raw: unknown): SpindleEvent {
  const envelope = eventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new InvalidEventError(`invalid event envelope: ${z.prettifyError(envelope.error)}`);
  }
  const { type, version } = envelope.data;
  const data = dataSchemaOf(type, version).safeParse(envelope.data.data);
  if (!data.success) {
    throw new InvalidEventError(`invalid ${type}@${version} payload: ${z.prettifyError(data.error)}`);
  }
  // The schema of `type@version` accepted the data: this is that member of the union.
  return { ...envelope.data, data: data.data } as SpindleEvent;
}

// An event about to be recorded breaks its schema: a programming error, never written. Checks the
// data as given (what is written is exactly what the decision made, not zod's copy of it), and
// refuses a field the schema does not know, which every reader would silently drop.
export function assertEventData(event: NewEvent | EventEnvelope): void {
  const key = `${event.type}@${event.version}`;
  const data = dataSchemaOf(event.type, event.version).safeParse(event.data);
  if (!data.success) {
    throw new InvalidEventError(`refusing to record an invalid ${key}: ${z.prettifyError(data.error)}`);
  }
  const known = data.data as Record<string, unknown>;
  const given = event.data as Record<string, unknown>;
  const unknownFields = Object.keys(given).filter((f) => given[f] !== undefined && !(f in known));
  if (unknownFields.length > 0) {
    throw new InvalidEventError(
      `refusing to record ${key} with fields it does not have: ${unknownFields.join(', ')}`,
    );
  }
}
