import { EventTopics } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import type { OutboxCopy } from '@spindle/backbone';

type ForHost = Extract<
  SpindleEvent,
  { type: 'WorkerRequested' | 'WorkerStopRequested' | 'JobAssigned' | 'JobCancelRequested' }
>;
const FOR_HOSTS: ReadonlySet<string> = new Set<ForHost['type']>([
  'WorkerRequested',
  'WorkerStopRequested',
  'JobAssigned',
  'JobCancelRequested',
]);

// What the scheduler addresses to a worker host also goes, as a copy keyed by the host, to the
// host topic: an agent reads only that topic, finds its own messages by key without parsing the
// others, and gets a worker's request before the jobs assigned to it (one key, one partition, the
// order they were decided in).
export const hostDelivery: OutboxCopy = (event) =>
  FOR_HOSTS.has(event.type)
    ? { topic: EventTopics.schedulerHost, key: (event as ForHost).data.hostId }
    : undefined;
