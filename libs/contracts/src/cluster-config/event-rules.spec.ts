import { eventRulesSchema } from './cluster-config';
import { parsePublishedEvent } from './published-event';
import type { PublishedEvent } from './published-event';
import { compileRules, mapEvent, reduce } from './event-rules';

const vote = (color: string, weight: number, source = 'vote'): PublishedEvent => ({
  source,
  data: { color, weight },
  jobId: 'job-1',
  at: '2026-12-01T10:00:00.000Z',
});

const rules = (files: unknown) => compileRules(eventRulesSchema.parse(files));

const VOTES = [
  {
    maps: [
      {
        id: 'votes',
        source: 'vote',
        where: { 'data.color': { $in: ['red', 'blue'] } },
        key: ['$data.color'],
        value: { $multiply: ['$data.weight', 2] },
      },
    ],
    reductions: [
      { id: 'perColor', source: 'votes', operations: ['count', 'sum', 'min', 'max'], period: 1000 },
    ],
  },
];

describe('Genvid event rules', () => {
  it('maps a selected event to its key and reshaped value, and skips others', () => {
    const compiled = rules(VOTES);
    expect(compiled.errors).toEqual([]);
    expect(mapEvent(compiled, vote('red', 3))).toEqual([
      { type: 'map', id: 'votes', key: ['red'], value: 6, at: '2026-12-01T10:00:00.000Z' },
    ]);
    expect(mapEvent(compiled, vote('green', 3))).toEqual([]); // where refuses it
    expect(mapEvent(compiled, vote('red', 3, 'cheer'))).toEqual([]); // another source
  });

  it('reduces the results of a period per key: count, sum, min, max', () => {
    const compiled = rules(VOTES);
    const results = [vote('red', 1), vote('blue', 5), vote('red', 4), vote('green', 9)].flatMap((e) =>
      mapEvent(compiled, e),
    );
    expect(reduce(compiled.reductions[0]!, results, 'A', 'B')).toEqual([
      {
        type: 'reduce',
        id: 'perColor',
        key: ['blue'],
        count: 1,
        sum: 10,
        min: 10,
        max: 10,
        from: 'A',
        to: 'B',
      },
      { type: 'reduce', id: 'perColor', key: ['red'], count: 2, sum: 10, min: 2, max: 8, from: 'A', to: 'B' },
    ]);
    expect(reduce(compiled.reductions[0]!, [], 'A', 'B')).toEqual([]); // a quiet period says nothing
  });

  it('takes only the operations a reduction asks for, and its where over the map results', () => {
    const compiled = rules([
      {
        maps: VOTES[0]!.maps,
        reductions: [
          { id: 'bigRed', source: 'votes', where: { value: { $gt: 4 } }, operations: ['count'], period: 500 },
        ],
      },
    ]);
    const results = [vote('red', 1), vote('red', 4)].flatMap((e) => mapEvent(compiled, e));
    expect(reduce(compiled.reductions[0]!, results, 'A', 'B')).toEqual([
      { type: 'reduce', id: 'bigRed', key: ['red'], count: 1, from: 'A', to: 'B' },
    ]);
  });

  it('reports each bad rule as an error and keeps the good ones', () => {
    const compiled = rules([
      {
        maps: [
          { id: 'ok', source: 'vote' },
          { id: 'badWhere', source: 'vote', where: { data: { $bogus: 1 } } },
          { id: 'badValue', source: 'vote', value: { $nope: 1 } },
          { id: 'ok', source: 'cheer' },
        ],
        reductions: [{ id: 'orphan', source: 'missing', operations: ['count'], period: 1000 }],
      },
    ]);
    expect(compiled.maps.map((m) => m.rule.id)).toEqual(['ok']);
    expect(compiled.errors).toEqual([
      expect.stringMatching(/^files\[0\]\.maps\[1\] \(badWhere\): .*\$bogus/),
      expect.stringMatching(/^files\[0\]\.maps\[2\] \(badValue\): .*\$nope/),
      'files[0].maps[3] (ok): map id ok is defined twice',
      'files[0].reductions[0] (orphan): source missing is no map rule',
    ]);
    // a map without key or value passes the whole data on
    expect(mapEvent(compiled, vote('red', 1))).toEqual([
      { type: 'map', id: 'ok', key: [], value: { color: 'red', weight: 1 }, at: '2026-12-01T10:00:00.000Z' },
    ]);
  });

  it('reads the line protocol: SPINDLE_EVENT and a JSON object, anything else is a log line', () => {
    expect(parsePublishedEvent('SPINDLE_EVENT {"source":"vote","data":{"color":"red"}}', 'j', 't')).toEqual({
      source: 'vote',
      data: { color: 'red' },
      jobId: 'j',
      at: 't',
    });
    expect(parsePublishedEvent('SPINDLE_EVENT not json', 'j', 't')).toBeNull();
    expect(parsePublishedEvent('SPINDLE_EVENT {"data":1}', 'j', 't')).toBeNull(); // no source
    expect(parsePublishedEvent('hello', 'j', 't')).toBeNull();
  });
});
