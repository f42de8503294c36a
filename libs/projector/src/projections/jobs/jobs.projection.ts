import { EventTopics } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import type { EventConsumer } from '@spindle/backbone';
import { JobView, evolveJobView } from '@spindle/read-models';
import { appendToFeed } from '../feed/feed';

// The rows alone: what a rebuild replays (the feed is append-only and keeps its entries).
export const jobRowsProjection = streamProjection<JobView>({
  name: 'projector.jobs.v1',
  topics: [EventTopics.schedulerJob],
  entity: JobView,
  evolve: evolveJobView,
});

// The jobs read model, and each change on the feed in the same transaction.
export const jobsProjection: EventConsumer = {
  name: jobRowsProjection.name,
  topics: jobRowsProjection.topics,
  async handle(events, manager) {
    const rows = await jobRowsProjection.apply(events, manager);
    await appendToFeed(manager, 'job', events, rows);
  },
};
