import { EventTopics } from '@spindle/contracts';
import type { OutboxCopy } from '@spindle/backbone';

// What the scheduler addresses to a worker host also goes, as a copy keyed by the host, to the
// host topic: an agent reads only that topic, finds its own messages by key without parsing the
// others, and gets a worker's request before the jobs assigned to it (one key, one partition, the
// order they were decided in).
export const hostDelivery: OutboxCopy = (event) => {
  switch (event.type) {
    case 'WorkerRequested':
    case 'WorkerStopRequested':
    case 'JobAssigned':
    case 'JobCancelRequested':
      return { topic: EventTopics.schedulerHost, key: event.data.hostId };
    default:
      return undefined;
  }
};
