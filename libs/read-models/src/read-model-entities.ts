import { ArtifactView } from './artifacts/artifact.view';
import { ClusterView } from './clusters/cluster.view';
import { ContextView } from './contexts/context.view';
import { FeedEntryView } from './feed/feed-entry.view';
import { GroupView } from './groups/group.view';
import { FunctionView } from './functions/function.view';
import { JobView } from './jobs/job.view';
import { SettingsView } from './settings/settings.view';
import { ServiceJobView } from './service-jobs/service-job.view';
import { ClusterConfigView } from './cluster-config/cluster-config.view';
import { ApiKeyView } from './api-keys/api-key.view';
import { MapReduceJobView } from './mapreduce/mapreduce-job.view';
import { EventReductionView, EventResultView, EventResultsHeadView } from './event-results/event-result.view';
import { HostView, WorkerView } from './workers/worker.view';

// Every read-model table, for the projector that writes them and the gateway that reads them.
export const READ_MODEL_ENTITIES = [
  ContextView,
  ArtifactView,
  FunctionView,
  JobView,
  WorkerView,
  HostView,
  FeedEntryView,
  ClusterView,
  GroupView,
  SettingsView,
  ServiceJobView,
  ClusterConfigView,
  ApiKeyView,
  MapReduceJobView,
  EventResultView,
  EventResultsHeadView,
  EventReductionView,
];
