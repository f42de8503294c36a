import { streamProjection } from '@spindle/backbone';
import type { EventConsumer } from '@spindle/backbone';
import { READ_MODEL_SOURCES, JobView, evolveJobView } from '@spindle/read-models';
import { withFeed } from '../feed/feed';

// The rows alone: what a rebuild replays (the feed is append-only and keeps its entries).
export const jobRowsProjection = streamProjection<JobView>({
  name: READ_MODEL_SOURCES.jobs.consumer,
  topics: [READ_MODEL_SOURCES.jobs.topic],
  entity: JobView,
  evolve: evolveJobView,
});

// The jobs read model, and each change on the feed, written with the rows.
export const jobsProjection: EventConsumer = withFeed('job', jobRowsProjection);
