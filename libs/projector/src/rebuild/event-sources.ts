import {
  EventTopics,
  apiKeyEventDataSchemas,
  artifactEventDataSchemas,
  clusterConfigEventDataSchemas,
  clusterEventDataSchemas,
  contextEventDataSchemas,
  functionEventDataSchemas,
  groupEventDataSchemas,
  jobEventDataSchemas,
  serviceJobEventDataSchemas,
  settingsEventDataSchemas,
  workerEventDataSchemas,
} from '@spindle/contracts';

// Where the events of a public topic are recorded: the owning service's schema (its `events`
// table is the truth the topic was published from) and the event types the topic carries.
export interface EventSource {
  readonly schema: string;
  readonly types: readonly string[];
}

const typesOf = (schemas: Record<string, unknown>) => [
  ...new Set(Object.keys(schemas).map((k) => k.split('@')[0]!)),
];

// Schemas are named after their owners (`scheduler`, `artifact_store`); the projector reads them
// only to rebuild, never to serve.
export const EVENT_SOURCES: Readonly<Record<string, EventSource>> = {
  [EventTopics.schedulerContext]: { schema: 'scheduler', types: typesOf(contextEventDataSchemas) },
  [EventTopics.schedulerFunction]: { schema: 'scheduler', types: typesOf(functionEventDataSchemas) },
  [EventTopics.schedulerJob]: { schema: 'scheduler', types: typesOf(jobEventDataSchemas) },
  [EventTopics.schedulerWorker]: { schema: 'scheduler', types: typesOf(workerEventDataSchemas) },
  [EventTopics.schedulerCluster]: { schema: 'scheduler', types: typesOf(clusterEventDataSchemas) },
  [EventTopics.schedulerGroup]: { schema: 'scheduler', types: typesOf(groupEventDataSchemas) },
  [EventTopics.schedulerSettings]: { schema: 'scheduler', types: typesOf(settingsEventDataSchemas) },
  [EventTopics.schedulerServiceJob]: { schema: 'scheduler', types: typesOf(serviceJobEventDataSchemas) },
  [EventTopics.schedulerClusterConfig]: {
    schema: 'scheduler',
    types: typesOf(clusterConfigEventDataSchemas),
  },
  [EventTopics.schedulerApiKey]: { schema: 'scheduler', types: typesOf(apiKeyEventDataSchemas) },
  [EventTopics.artifact]: { schema: 'artifact_store', types: typesOf(artifactEventDataSchemas) },
};

// One event store per rebuild: every topic of a projection must come from the same owner.
export function eventSourceOf(projection: string, topics: readonly string[]): EventSource {
  const sources = topics.map((topic) => {
    const source = EVENT_SOURCES[topic];
    if (!source) throw new Error(`${projection}: no event store is known for topic ${topic}`);
    return source;
  });
  const schemas = [...new Set(sources.map((s) => s.schema))];
  if (schemas.length !== 1)
    throw new Error(`${projection}: its topics come from several event stores (${schemas.join(', ')})`);
  return { schema: schemas[0]!, types: [...new Set(sources.flatMap((s) => s.types))] };
}
