import { logLineBytes } from '@spindle/contracts';
import type { JobEvent } from '@spindle/contracts';
import { mistLogBytes, mistLogLevel } from './mist-format';
import type { MistLogSource } from './mist-format';

const LOGS_EVENT_BYTES = 256 * 1024; // one `logs` event stays well under Kafka's 1 MiB message limit

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
    case 'JobRequeued': // its host died and it runs again: Mist's own word for waiting
      return [{ event: 'queued', id }];
    case 'JobCancelRequested':
      return [{ event: 'cancelling', id, time }];
    case 'JobSucceeded':
      return [{ event: 'finished', id, time, result: d['result'] ?? null }];
    case 'JobFailed':
      return [{ event: 'failed', id, time, error: d['error'] }];
    case 'JobCancelled':
    case 'JobTimedOut':
      return [{ event: 'cancelled', id, time }];
    case 'JobDeleted': // Mist has no word for it (its jobs are never deleted)
      return [];
  }
}

// `logs` events for consecutive lines of a job's log, `first` naming the first one's line number
// and raw byte offset. `fileOffset` is the byte length of the job's log after each event's last
// line as Mist's log file (GET /jobs/{id}/logs) holds it, not the raw bytes: that is the text a
// Mist client can ask for with `Range: bytes=<fileOffset>-`. Large runs are cut into several events.
export function mistLogsEvents(
  id: string,
  first: { readonly line: number; readonly byte: number },
  lines: readonly MistLogSource[],
): MistEvent[] {
  const events: MistEvent[] = [];
  let entries: Record<string, unknown>[] = [];
  let size = 0;
  let line = first.line - 1;
  let byte = first.byte;
  const cut = (): void => {
    events.push({ event: 'logs', id, events: entries, fileOffset: mistLogBytes(line, byte) });
    entries = [];
    size = 0;
  };
  for (const l of lines) {
    const entry = {
      from: l.stream,
      message: l.text,
      timeStamp: Date.parse(l.at),
      level: mistLogLevel(l.stream),
    };
    const entrySize = Buffer.byteLength(JSON.stringify(entry));
    if (entries.length > 0 && size + entrySize > LOGS_EVENT_BYTES) cut();
    entries.push(entry);
    size += entrySize;
    line += 1;
    byte += logLineBytes(l.text);
  }
  if (entries.length > 0) cut();
  return events;
}
