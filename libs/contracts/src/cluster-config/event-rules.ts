import { Aggregator, Query } from 'mingo';
import type { EventMapRule, EventReduceRule, EventRulesFile } from './cluster-config';
import type { PublishedEvent } from './published-event';

// Genvid's event rules, evaluated with MongoDB's query and aggregation language (mingo): a map
// rule selects published events (`where`, a query) and reshapes each into a result (`key`, a list
// of expressions, and `value`, an expression); a reduce rule gathers the results of a map rule
// per key over a period and counts, sums, or takes their minimum or maximum. Pure: no clock, no
// I/O; the caller says when a period ends.

export interface MapResult {
  readonly type: 'map';
  readonly id: string;
  readonly key: unknown[];
  readonly value: unknown;
  readonly at: string;
}

export interface ReduceResult {
  readonly type: 'reduce';
  readonly id: string;
  readonly key: unknown[];
  readonly count?: number;
  readonly sum?: number;
  readonly min?: unknown;
  readonly max?: unknown;
  readonly from: string;
  readonly to: string;
}

export interface CompiledRules {
  readonly maps: readonly CompiledMap[];
  readonly reductions: readonly CompiledReduction[];
  // What is wrong with the definitions, one message per rule; those rules are left out.
  readonly errors: readonly string[];
}

interface CompiledMap {
  readonly rule: EventMapRule;
  readonly where: Query;
  readonly shape: Aggregator;
}

export interface CompiledReduction {
  readonly rule: EventReduceRule;
  readonly where: Query;
  readonly group: Aggregator;
}

export function compileRules(files: readonly EventRulesFile[]): CompiledRules {
  const errors: string[] = [];
  const maps: CompiledMap[] = [];
  const reductions: CompiledReduction[] = [];
  const mapIds = new Set<string>();
  files.forEach((file, f) => {
    file.maps.forEach((rule, m) => {
      const at = `files[${f}].maps[${m}] (${rule.id})`;
      if (mapIds.has(rule.id)) return void errors.push(`${at}: map id ${rule.id} is defined twice`);
      const compiled = attempt(at, errors, () => compileMap(rule));
      if (compiled) {
        mapIds.add(rule.id);
        maps.push(compiled);
      }
    });
  });
  const reductionIds = new Set<string>();
  files.forEach((file, f) => {
    file.reductions.forEach((rule, r) => {
      const at = `files[${f}].reductions[${r}] (${rule.id})`;
      if (reductionIds.has(rule.id))
        return void errors.push(`${at}: reduction id ${rule.id} is defined twice`);
      if (!mapIds.has(rule.source)) return void errors.push(`${at}: source ${rule.source} is no map rule`);
      const compiled = attempt(at, errors, () => compileReduction(rule));
      if (compiled) {
        reductionIds.add(rule.id);
        reductions.push(compiled);
      }
    });
  });
  return { maps, reductions, errors };
}

// The map results of one published event, in the order of the rules.
export function mapEvent(rules: CompiledRules, event: PublishedEvent): MapResult[] {
  const document = { source: event.source, data: event.data, jobId: event.jobId, at: event.at };
  return rules.maps.flatMap((map): MapResult[] => {
    if (map.rule.source !== event.source || !map.where.test(document)) return [];
    const [shaped] = map.shape.run<{ key?: unknown[]; value?: unknown }>([document]);
    return [
      { type: 'map', id: map.rule.id, key: shaped?.key ?? [], value: shaped?.value ?? null, at: event.at },
    ];
  });
}

// The results of one reduction over the map results of a period, one per key, ordered by key.
export function reduce(
  reduction: CompiledReduction,
  results: readonly MapResult[],
  from: string,
  to: string,
): ReduceResult[] {
  const taken = results.filter((r) => r.id === reduction.rule.source && reduction.where.test({ ...r }));
  if (taken.length === 0) return [];
  const groups = reduction.group.run<{ _id: unknown[] } & Record<string, unknown>>(
    taken.map((r) => ({ ...r })),
  );
  return groups
    .map((g) => {
      const result: ReduceResult = { type: 'reduce', id: reduction.rule.id, key: g._id, from, to };
      const picked = Object.fromEntries(reduction.rule.operations.map((op) => [op, g[op]]));
      return { ...result, ...picked };
    })
    .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
}

function compileMap(rule: EventMapRule): CompiledMap {
  const where = new Query(rule.where ?? {});
  const shape = new Aggregator([
    { $project: { _id: 0, key: rule.key ?? [], value: rule.value === undefined ? '$data' : rule.value } },
  ]);
  shape.run([{ source: rule.source, data: {}, jobId: '', at: '' }]); // refuses a bad expression now
  return { rule, where, shape };
}

const ACCUMULATORS = {
  count: { $sum: 1 },
  sum: { $sum: '$value' },
  min: { $min: '$value' },
  max: { $max: '$value' },
} as const;

function compileReduction(rule: EventReduceRule): CompiledReduction {
  const where = new Query(rule.where ?? {});
  const accumulators = Object.fromEntries(rule.operations.map((op) => [op, ACCUMULATORS[op]]));
  const group = new Aggregator([{ $group: { _id: '$key', ...accumulators } }]);
  group.run([{ type: 'map', id: rule.source, key: [], value: 0, at: '' }]);
  return { rule, where, group };
}

function attempt<T>(at: string, errors: string[], compile: () => T): T | null {
  try {
    return compile();
  } catch (e) {
    errors.push(`${at}: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}
