import type { ObjectStorage } from '@spindle/platform';
import type { InputRecord } from './program-protocol';
import type { InputSplit } from './splits';

// The lines of a split, Hadoop's way, so that every line of the object is read by exactly one
// split: a line belongs to the split holding its first byte. A split not at 0 therefore skips its
// first, partial line (unless the byte before its start is a line break), and every split reads
// past its end to finish its last line. The object is read from start-1 to its end, lazily: the
// request is aborted once the last line is complete.
export async function* readSplitLines(
  storage: ObjectStorage,
  bucket: string,
  split: InputSplit,
  signal?: AbortSignal,
): AsyncIterable<InputRecord> {
  const reading = new AbortController();
  const abort = (): void => reading.abort();
  signal?.addEventListener('abort', abort, { once: true });
  const from = split.start === 0 ? 0 : split.start - 1;
  let position = from; // offset of pending[0] in the object
  let pending: Buffer = Buffer.alloc(0);
  let skipFirst = split.start !== 0; // until we know whether start-1 is a line break
  let lineNumber = 0;
  try {
    const body = await storage.read(bucket, split.key, from, undefined, reading.signal);
    for await (const chunk of body) {
      pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      let offset = 0;
      for (;;) {
        const newline = pending.indexOf(10, offset);
        if (newline < 0) break;
        const lineStart = position + offset;
        if (skipFirst)
          skipFirst = false; // the tail of the line before this split (maybe just its \n)
        else if (lineStart < split.end) {
          yield { lineNumber: ++lineNumber, line: textOf(pending, offset, newline) };
        }
        offset = newline + 1;
        if (position + offset >= split.end && !skipFirst) return; // the next line is the next split's
      }
      position += offset;
      pending = pending.subarray(offset);
    }
    // The object's last line, without a final line break.
    if (!skipFirst && pending.length > 0 && position < split.end)
      yield { lineNumber: ++lineNumber, line: textOf(pending, 0, pending.length) };
  } finally {
    signal?.removeEventListener('abort', abort);
    reading.abort(); // stops the download when we returned early
  }
}

function textOf(buffer: Buffer, start: number, end: number): string {
  const last = end > start && buffer[end - 1] === 13 ? end - 1 : end; // \r\n
  return buffer.toString('utf8', start, last);
}
