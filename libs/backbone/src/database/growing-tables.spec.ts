import type { DataSource } from 'typeorm';
import { GROWN_CHECK_MS, GROWN_MIN_STATEMENTS, GrowingTableAnalyzer } from './growing-tables';

// When the analyzer looks: a data source stands in (a pure unit: which statements it is sent).
describe('GrowingTableAnalyzer checks', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('looks again only once its schema ran GROWN_MIN_STATEMENTS of its own since the last look', async () => {
    const query = jest.fn().mockResolvedValue([]);
    let statements = 0;
    const sent = jest.fn(async (text: string, values?: unknown[]) => {
      statements++;
      return query(text, values) as Promise<unknown>;
    });
    const analyzer = new GrowingTableAnalyzer(
      { query: sent } as unknown as DataSource,
      'scheduler',
      () => statements,
    );
    analyzer.start();

    // Started idle: no look.
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS * 3);
    expect(query).toHaveBeenCalledTimes(0);

    statements += GROWN_MIN_STATEMENTS;
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS);
    expect(query).toHaveBeenCalledTimes(1);
    expect(query.mock.calls[0]![1]).toEqual(['scheduler', expect.any(Number), expect.any(Number)]);

    // Idle: its own look is not activity.
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS * 5);
    expect(query).toHaveBeenCalledTimes(1);

    // A trickle (a heartbeat a second) waits until it adds up.
    for (let i = 0; i < GROWN_MIN_STATEMENTS - 1; i++) {
      statements += 1;
      await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS / 2);
    }
    expect(query).toHaveBeenCalledTimes(1);
    statements += 1;
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS);
    expect(query).toHaveBeenCalledTimes(2);

    // A look that outlasts the interval is not started again meanwhile.
    let finish: (rows: unknown[]) => void = () => undefined;
    query.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    statements += GROWN_MIN_STATEMENTS;
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS);
    expect(query).toHaveBeenCalledTimes(3);
    statements += GROWN_MIN_STATEMENTS;
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS * 3);
    expect(query).toHaveBeenCalledTimes(3);
    finish([]);
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS);
    expect(query).toHaveBeenCalledTimes(4);

    await analyzer.stop();
    statements += GROWN_MIN_STATEMENTS;
    await jest.advanceTimersByTimeAsync(GROWN_CHECK_MS * 2);
    expect(query).toHaveBeenCalledTimes(4);
  });

  it('analyzes each table the look found grown, by its quoted name', async () => {
    const query = jest.fn(async (text: string) =>
      text.startsWith('select') ? [{ table: 'jobs_v1' }, { table: 'odd"name' }] : [],
    );
    const analyzer = new GrowingTableAnalyzer({ query } as unknown as DataSource, 'projector', () => 0);
    expect(await analyzer.analyzeGrown()).toEqual(['jobs_v1', 'odd"name']);
    expect(query.mock.calls.slice(1).map((c) => c[0])).toEqual([
      'analyze (skip_locked) "projector"."jobs_v1"',
      'analyze (skip_locked) "projector"."odd""name"',
    ]);
  });
});
