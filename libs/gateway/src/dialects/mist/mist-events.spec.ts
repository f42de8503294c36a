import { mistEventsOf, mistLogsEvents } from './mist-events';
import { mistLogLine } from './mist-format';
import type { MistLogSource } from './mist-format';

const id = '0193a5b2-7c1e-7f00-8000-1234567890ab';
const at = '2026-11-22T10:00:00.123Z';

// What a worker agent numbers: line numbers from 1, raw bytes as UTF-8 text plus "\n".
function batches(lines: MistLogSource[], size: number) {
  const out: { line: number; byte: number; lines: MistLogSource[] }[] = [];
  let byte = 0;
  for (let i = 0; i < lines.length; i += size) {
    const slice = lines.slice(i, i + size);
    out.push({ line: i + 1, byte, lines: slice });
    byte += slice.reduce((n, l) => n + Buffer.byteLength(l.text) + 1, 0);
  }
  return out;
}

describe('Mist logs events', () => {
  const lines: MistLogSource[] = [
    { at, stream: 'stdout', text: 'adding 1 2' },
    { at, stream: 'stderr', text: 'warnung: größer als erwartet' },
    { at, stream: 'system', text: '' },
    { at, stream: 'stdout', text: '日本語 ✓' },
    { at, stream: 'stderr', text: 'Traceback (most recent call last):' },
  ];

  it('gives each line as Mist does: from, message, timeStamp in ms, level', () => {
    const [event] = mistLogsEvents(id, { line: 1, byte: 0 }, lines.slice(0, 2));
    expect(event).toEqual({
      event: 'logs',
      id,
      events: [
        { from: 'stdout', message: 'adding 1 2', timeStamp: Date.parse(at), level: 2 },
        { from: 'stderr', message: 'warnung: größer als erwartet', timeStamp: Date.parse(at), level: 3 },
      ],
      fileOffset: expect.any(Number),
    });
  });

  it('sets fileOffset to the byte length of the Mist log text so far, batch after batch', () => {
    for (const batch of batches(lines, 2)) {
      const [event] = mistLogsEvents(id, { line: batch.line, byte: batch.byte }, batch.lines);
      const upToHere = lines
        .slice(0, batch.line - 1 + batch.lines.length)
        .map(mistLogLine)
        .join('');
      expect(event!['fileOffset']).toBe(Buffer.byteLength(upToHere));
    }
  });

  it('cuts a large run into several events, each ending where its last line ends', () => {
    const many: MistLogSource[] = Array.from({ length: 3_000 }, (_, i) => ({
      at,
      stream: i % 3 === 0 ? 'stderr' : 'stdout',
      text: `${'x'.repeat(200)} ${i}`,
    }));
    const events = mistLogsEvents(id, { line: 1, byte: 0 }, many);
    expect(events.length).toBeGreaterThan(1);
    let seen = 0;
    for (const event of events) {
      const entries = event['events'] as unknown[];
      seen += entries.length;
      expect(event['fileOffset']).toBe(Buffer.byteLength(many.slice(0, seen).map(mistLogLine).join('')));
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(300 * 1024);
    }
    expect(seen).toBe(many.length);
  });
});

describe('Mist job events', () => {
  it('tells a job put back in its queue after its host died as queued again', () => {
    const change = {
      type: 'JobRequeued' as const,
      data: { id, attempt: 2, reason: 'worker host h1 stopped responding', workerId: 'w1' },
      occurredAt: new Date(at),
      function: 'sum',
      context: 'default',
    };
    expect(mistEventsOf(change)).toEqual([{ event: 'queued', id }]);
  });
});
