// Every Kafka topic Spindle uses. Names carry the major version of their payload:
// a breaking change gets a new topic (and an upcaster on the read side), never an edit.
export const EventTopics = {
  schedulerContext: 'spindle.scheduler.context.v1',
  schedulerFunction: 'spindle.scheduler.function.v1',
  schedulerJob: 'spindle.scheduler.job.v1',
  schedulerWorker: 'spindle.scheduler.worker.v1',
  // What the scheduler addresses to one worker host (worker requests and stops, job assignments
  // and cancels): copies of those job and worker events, keyed by host id, so a host reads its own
  // in the order they were decided, from one partition.
  schedulerHost: 'spindle.scheduler.host.v1',
  // Cluster definitions (where work runs: local, k8s, yarn), keyed by cluster name.
  schedulerCluster: 'spindle.scheduler.cluster.v1',
  // Groups of interactive workers (created, rescaled, stopped, deleted), keyed by group name.
  schedulerGroup: 'spindle.scheduler.group.v1',
  // MapReduce jobs and their tasks, keyed by job (streams mapreduce-job-<id>).
  schedulerMapReduceJob: 'spindle.scheduler.mapreduce-job.v1',
  artifact: 'spindle.artifact-store.artifact.v1',
  // The installation's settings (stream `settings`): the whole document each time it changes.
  schedulerSettings: 'spindle.scheduler.settings.v1',
  // Service jobs (task groups of long-running instances), keyed by service-job-<name>.
  schedulerServiceJob: 'spindle.scheduler.service-job.v1',
  // The log catalogue, logger levels and event rules (streams log-catalogue, loggers, event-rules).
  schedulerClusterConfig: 'spindle.scheduler.cluster-config.v1',
  // Secrets' history and audit (writes, reads, deletes, key rotations): ids and key names, no values.
  secret: 'spindle.secrets.secret.v1',
  // API keys (created, revoked), keyed by key id: scopes and a verifier, never the key.
  schedulerApiKey: 'spindle.scheduler.api-key.v1',
  // What worker agents report about the processes they run (task started/finished, process exits).
  workerReport: 'spindle.worker.report.v1',
} as const;
export type EventTopic = (typeof EventTopics)[keyof typeof EventTopics];

// Plain JSON data streams, not event envelopes: many, small, and owned by nobody's event store.
export const DataTopics = {
  // Log batches of running jobs (LogBatch), keyed by job id; the log-collector stores them.
  logs: 'spindle.worker.log.v1',
  // Worker host heartbeats (HostHeartbeat), keyed by host id; the scheduler watches them.
  heartbeats: 'spindle.worker.heartbeat.v1',
  // Audit records of writes made with an API key (AuditRecord: who, what, from where), keyed by key id.
  audit: 'spindle.gateway.audit.v1',
} as const;

// Poison messages land here with headers naming their origin and the error.
export const DEAD_LETTER_TOPIC = 'spindle.dead-letter.v1';

// Commands travel as request/reply over @nestjs/microservices. The pattern names the command; over
// Kafka it travels in the COMMAND_HEADER of a message on its owner's one command topic
// (commandTopicOf), answered on that topic's reply topic (replyTopicOf).
export const CommandPatterns = {
  createContext: 'spindle.scheduler.cmd.create-context.v1',
  updateContext: 'spindle.scheduler.cmd.update-context.v1',
  deleteContext: 'spindle.scheduler.cmd.delete-context.v1',
  registerFunction: 'spindle.scheduler.cmd.register-function.v1',
  changeFunction: 'spindle.scheduler.cmd.change-function.v1',
  deleteFunction: 'spindle.scheduler.cmd.delete-function.v1',
  submitJob: 'spindle.scheduler.cmd.submit-job.v1',
  cancelJob: 'spindle.scheduler.cmd.cancel-job.v1',
  deleteJob: 'spindle.scheduler.cmd.delete-job.v1',
  stopWorker: 'spindle.scheduler.cmd.stop-worker.v1',
  createCluster: 'spindle.scheduler.cmd.create-cluster.v1',
  deleteCluster: 'spindle.scheduler.cmd.delete-cluster.v1',
  createGroup: 'spindle.scheduler.cmd.create-group.v1',
  rescaleGroup: 'spindle.scheduler.cmd.rescale-group.v1',
  stopGroup: 'spindle.scheduler.cmd.stop-group.v1',
  deleteGroup: 'spindle.scheduler.cmd.delete-group.v1',
  changeSettings: 'spindle.scheduler.cmd.change-settings.v1',
  createServiceJob: 'spindle.scheduler.cmd.create-service-job.v1',
  startServiceJob: 'spindle.scheduler.cmd.start-service-job.v1',
  stopServiceJob: 'spindle.scheduler.cmd.stop-service-job.v1',
  scaleServiceJob: 'spindle.scheduler.cmd.scale-service-job.v1',
  deleteServiceJob: 'spindle.scheduler.cmd.delete-service-job.v1',
  replaceLogCatalogue: 'spindle.scheduler.cmd.replace-log-catalogue.v1',
  setLoggerLevels: 'spindle.scheduler.cmd.set-logger-levels.v1',
  replaceEventRules: 'spindle.scheduler.cmd.replace-event-rules.v1',
  createApiKey: 'spindle.scheduler.cmd.create-api-key.v1',
  revokeApiKey: 'spindle.scheduler.cmd.revoke-api-key.v1',
  submitMapReduceJob: 'spindle.scheduler.cmd.submit-mapreduce-job.v1',
  stopMapReduceJob: 'spindle.scheduler.cmd.stop-mapreduce-job.v1',
} as const;
export type CommandPattern = (typeof CommandPatterns)[keyof typeof CommandPatterns];

// One topic per service that receives commands, and one reply topic beside it: a consumer's idle
// fetch names every partition it holds, so a topic per command (29 of them, three partitions each)
// made the owner's command server and every sender's reply consumer fetch 87 partitions a second.
export const CommandTopics = {
  scheduler: 'spindle.scheduler.commands.v1',
} as const;

// The Kafka header that names a command's pattern on its owner's command topic.
export const COMMAND_HEADER = 'spindle_command';

// `spindle.<service>.cmd.<command>.v<N>` is received on `<service>`'s command topic.
export function commandTopicOf(pattern: string): string {
  const owner = /^spindle\.([a-z-]+)\.cmd\./.exec(pattern)?.[1];
  const topic = owner === undefined ? undefined : (CommandTopics as Record<string, string>)[owner];
  if (topic === undefined) throw new Error(`${pattern} is not a command of a service that receives commands`);
  return topic;
}

// Where the owner of a command topic answers (Nest's Kafka client's own naming: `<topic>.reply`).
export function replyTopicOf(commandTopic: string): string {
  return `${commandTopic}.reply`;
}

export const ALL_EVENT_TOPICS: readonly string[] = Object.values(EventTopics);
export const ALL_DATA_TOPICS: readonly string[] = Object.values(DataTopics);
export const ALL_COMMAND_TOPICS: readonly string[] = Object.values(CommandTopics).flatMap((t) => [
  t,
  replyTopicOf(t),
]);
