import { EventTopics } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import type { EventConsumer } from '@spindle/backbone';
import { JobView, evolveJobView } from '@spindle/read-models';
import { appendToFeed } from '../feed/feed';

const rows = streamProjection<JobView>({
  name: 'projector.jobs.v1',
  topics: [EventTopics.schedulerJob],
  entity: JobView,
  evolve: evolveJobView,
});

// The jobs read model, and each change on the feed in the same transaction.
export const jobsProjection: EventConsumer = {
  name: rows.name,
  topics: rows.topics,
  async handle(events, manager) {
    await rows.handle(events, manager);
    await appendToFeed(manager, 'job', events);
  },
};
