import { boundReport } from './task-bounds';

function sink(): { lineCount: number; lines: string[]; system(text: string): void } {
  const lines: string[] = [];
  return {
    lines,
    get lineCount() {
      return 3 + lines.length; // three lines of the job's own output came first
    },
    system: (text) => void lines.push(text),
  };
}

const limits = { maxResultBytes: 100, maxErrorBytes: 200, logChunkBytes: 40 };

describe('boundReport', () => {
  it('keeps a result within the limit as it is, and writes nothing to the log', () => {
    const log = sink();
    const result = { outcome: 'succeeded' as const, result: { a: 'x'.repeat(50) } };
    expect(boundReport(result, limits, log)).toBe(result);
    expect(log.lines).toEqual([]);
  });

  it('moves a result over the limit into the log, and the lines joined are its JSON', () => {
    const log = sink();
    const value = { text: 'é'.repeat(150), n: [1, 2, 3] };
    const bounded = boundReport({ outcome: 'succeeded', result: value }, limits, log);
    const json = JSON.stringify(value);
    const ref = (bounded as { result: { resultInLog: { bytes: number; from: number; lines: number } } })
      .result.resultInLog;
    expect(ref.bytes).toBe(Buffer.byteLength(json));
    expect(ref.from).toBe(4); // after the job's 3 lines and the notice
    expect(log.lines[0]).toContain('SPINDLE_JOB_MAX_RESULT_BYTES');
    const parts = log.lines.slice(1);
    expect(parts).toHaveLength(ref.lines);
    expect(parts.every((p) => Buffer.byteLength(p) <= 40)).toBe(true);
    expect(JSON.parse(parts.join(''))).toEqual(value);
  });

  it('shortens an error over the limit, keeping its start and its end', () => {
    const log = sink();
    const error = `START${'m'.repeat(10_000)}END`;
    const bounded = boundReport({ outcome: 'failed', error }, limits, log);
    const text = (bounded as { error: string }).error;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(200);
    expect(text.startsWith('START')).toBe(true);
    expect(text.endsWith('END')).toBe(true);
    expect(text).toContain('bytes left out');
  });
});
