import { EventTopics } from '@spindle/contracts';

// Which events build each read model: the topic, the schema of the service that records them (and
// whose outbox holds them until they are published), and the projector's consumer that applies
// them. The projections take their consumer names from here, so the two cannot disagree.
export const READ_MODEL_SOURCES = {
  contexts: { topic: EventTopics.schedulerContext, owner: 'scheduler', consumer: 'projector.contexts.v1' },
  functions: { topic: EventTopics.schedulerFunction, owner: 'scheduler', consumer: 'projector.functions.v1' },
  jobs: { topic: EventTopics.schedulerJob, owner: 'scheduler', consumer: 'projector.jobs.v1' },
  workers: { topic: EventTopics.schedulerWorker, owner: 'scheduler', consumer: 'projector.workers.v1' },
  clusters: { topic: EventTopics.schedulerCluster, owner: 'scheduler', consumer: 'projector.clusters.v1' },
  groups: { topic: EventTopics.schedulerGroup, owner: 'scheduler', consumer: 'projector.groups.v1' },
  artifacts: { topic: EventTopics.artifact, owner: 'artifact_store', consumer: 'projector.artifacts.v1' },
  settings: { topic: EventTopics.schedulerSettings, owner: 'scheduler', consumer: 'projector.settings.v1' },
  serviceJobs: {
    topic: EventTopics.schedulerServiceJob,
    owner: 'scheduler',
    consumer: 'projector.service-jobs.v1',
  },
  clusterConfig: {
    topic: EventTopics.schedulerClusterConfig,
    owner: 'scheduler',
    consumer: 'projector.cluster-config.v1',
  },
  mapReduceJobs: {
    topic: EventTopics.schedulerMapReduceJob,
    owner: 'scheduler',
    consumer: 'projector.mapreduce-jobs.v1',
  },
  apiKeys: { topic: EventTopics.schedulerApiKey, owner: 'scheduler', consumer: 'projector.api-keys.v1' },
} as const;

export type ReadModelName = keyof typeof READ_MODEL_SOURCES;
