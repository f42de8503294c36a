import type { JobEvent } from '@spindle/contracts';

// Mist's job events (its WebSocket streams and its async publish topic): the case-class fields
// plus an `event` discriminator, times in epoch ms.
export type MistEvent = Record<string, unknown> & { event: string; id: string };

export interface JobChange {
  readonly type: JobEvent['type'];
  readonly data: Record<string, unknown>;
  readonly occurredAt: Date;
  readonly function: string | null;
  readonly context: string;
}

export function mistEventsOf(change: JobChange): MistEvent[] {
  const d = change.data;
  const id = String(d['id']);
  const time = change.occurredAt.getTime();
  switch (change.type) {
    case 'JobSubmitted': {
      const program = d['program'] as { artifact: string; entrypoint: string };
      const initialized: MistEvent = {
        event: 'initialized',
        id,
        params: {
          filePath: program.artifact,
          className: program.entrypoint,
          arguments: d['args'],
          action: 'execute',
        },
        function: d['function'],
        context: d['context'],
      };
      if (d['externalId'] !== null && d['externalId'] !== undefined)
        initialized['externalId'] = d['externalId'];
      return [initialized, { event: 'queued', id }];
    }
    case 'JobAssigned':
      return [
        { event: 'worker-assigned', id, workerId: d['workerId'] },
        { event: 'job-file-downloading', id, time },
      ];
    case 'JobStarted':
      return [{ event: 'started', id, time }];
    case 'JobCancelRequested':
      return [{ event: 'cancelling', id, time }];
    case 'JobSucceeded':
      return [{ event: 'finished', id, time, result: d['result'] ?? null }];
    case 'JobFailed':
      return [{ event: 'failed', id, time, error: d['error'] }];
    case 'JobCancelled':
    case 'JobTimedOut':
      return [{ event: 'cancelled', id, time }];
  }
}

export const TERMINAL_MIST_EVENTS = ['finished', 'failed', 'cancelled'];
