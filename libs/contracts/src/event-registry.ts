import { z } from 'zod';
import { eventEnvelopeSchema } from './envelope';
import type { EventEnvelope } from './envelope';
import { artifactEventDataSchemas } from './artifacts/artifact.events';
import { contextEventDataSchemas } from './scheduler/context.events';
import { functionEventDataSchemas } from './scheduler/function.events';
import { jobEventDataSchemas } from './scheduler/job.events';
import { workerEventDataSchemas } from './scheduler/worker.events';
import { agentReportDataSchemas } from './worker/agent-reports';
import { secretEventDataSchemas } from './secrets/secret.events';

// All event payload schemas by `type@version`. A consumer validates every message it reads
// against this registry before it lets a projection see it.
const dataSchemas: Record<string, z.ZodType> = {
  ...contextEventDataSchemas,
  ...artifactEventDataSchemas,
  ...functionEventDataSchemas,
  ...jobEventDataSchemas,
  ...workerEventDataSchemas,
  ...agentReportDataSchemas,
  ...secretEventDataSchemas,
};

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

export function parseEvent(raw: unknown): EventEnvelope {
  const envelope = eventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new InvalidEventError(`invalid event envelope: ${z.prettifyError(envelope.error)}`);
  }
  const key = `${envelope.data.type}@${envelope.data.version}`;
  const schema = dataSchemas[key];
  if (!schema) throw new InvalidEventError(`unknown event type ${key}`);
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) throw new InvalidEventError(`invalid ${key} payload: ${z.prettifyError(data.error)}`);
  return { ...envelope.data, data: data.data };
}
