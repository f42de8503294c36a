import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import type { PeerName } from '../peers/peer-adapters';
import { PEERS } from '../peers/peer-adapters';
import type { BenchEnv, Figure, Topology } from './bench-env';

// One line of a figure: Spindle's value and each peer's on the same workload, and whether higher
// or lower is better (for the ratio). `floor` is what the same hops reach with no work in them
// (figure 1's submit floor, figure 2's start floor): how close Spindle is to what this machine allows.
export interface Row {
  readonly metric: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly spindle: number | null;
  readonly peers?: Partial<Record<PeerName, number | null>>;
  readonly floor?: number | null;
  readonly note?: string;
}

export interface GoalCheck {
  readonly id: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface FigureReport {
  readonly figure: Figure;
  readonly topology?: Topology; // how Spindle's services were packed into processes
  readonly title: string;
  readonly rows: Row[];
  readonly goals: GoalCheck[];
  readonly notes: string[];
}

export interface Machine {
  readonly host: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly postgres: string;
  readonly kafka: string;
}

export interface BenchResult {
  readonly date: string;
  readonly mode: 'smoke' | 'quick' | 'full';
  readonly machine: Machine;
  readonly figures: FigureReport[];
  readonly failures: { figure: Figure; error: string }[];
  readonly seconds: number;
}

export function machineOf(postgres: string, kafka: string): Machine {
  const cpu = cpus();
  return {
    host: hostname(),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    kafka,
  };
}

const PEER_TITLES: Record<PeerName, string> = {
  bullmq: 'BullMQ',
  'pg-boss': 'pg-boss',
  'graphile-worker': 'graphile-worker',
};

function cell(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}

// Spindle ÷ peer, turned so that above 1 always means Spindle is better.
export function advantage(row: Row, peer: number | null | undefined): number | null {
  if (row.spindle === null || peer === null || peer === undefined || peer === 0 || row.spindle === 0)
    return null;
  const ratio = row.better === 'higher' ? row.spindle / peer : peer / row.spindle;
  return Math.round(ratio * 100) / 100;
}

export function markdown(result: BenchResult): string {
  const m = result.machine;
  const out: string[] = [
    `Run ${result.date} (${result.mode}, ${Math.round(result.seconds)} s) on \`${m.host}\`: ${m.cpu}, ${m.cores} cores, ` +
      `${m.memoryGiB} GiB, Node ${m.node}, ${m.postgres}, Kafka ${m.kafka}.`,
    '',
    'Ratios are Spindle against the peer in the same run, turned so that **above 1 means Spindle is better** ' +
      '(faster or more throughput).',
    '',
  ];
  for (const f of result.figures) {
    out.push(`### ${f.title}`, '');
    const peers = PEERS.filter((p) => f.rows.some((r) => r.peers && p in r.peers));
    const floor = f.rows.some((r) => r.floor !== undefined);
    const compared = peers.length > 0 || floor;
    const versus = `Spindle vs ${[...(floor ? ['floor'] : []), ...(peers.length ? ['peers'] : [])].join(' and ')}`;
    const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
    out.push(
      row([
        'metric',
        'Spindle',
        ...(floor ? ['floor (no work)'] : []),
        ...peers.map((p) => PEER_TITLES[p]),
        ...(compared ? [versus] : []),
      ]),
    );
    out.push(
      `|---|---:|${floor ? '---:|' : ''}${peers.map(() => '---:|').join('')}${compared ? '---|' : ''}`,
    );
    for (const r of f.rows) {
      const ratios = [
        ...(floor ? [['floor', advantage(r, r.floor)] as const] : []),
        ...peers.map((p) => [PEER_TITLES[p], advantage(r, r.peers?.[p])] as const),
      ]
        .filter(([, a]) => a !== null)
        .map(([p, a]) => `${a}× ${p}`)
        .join(', ');
      out.push(
        row([
          `${r.metric} (${r.unit})${r.note ? ` ${r.note}` : ''}`,
          cell(r.spindle),
          ...(floor ? [cell(r.floor)] : []),
          ...peers.map((p) => cell(r.peers?.[p])),
          ...(compared ? [ratios || '–'] : []),
        ]),
      );
    }
    out.push('');
    for (const n of f.notes) out.push(`- ${n}`);
    if (f.notes.length) out.push('');
  }
  const goals = result.figures.flatMap((f) => f.goals);
  if (goals.length) {
    out.push('### Goals', '', '| goal | target | measured | met |', '|---|---|---|---|');
    for (const g of goals) out.push(`| ${g.id} | ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  for (const failure of result.failures) out.push(`- **${failure.figure} failed**: ${failure.error}`);
  return out.join('\n');
}

// Where a run's results go (without the extension), chosen once when it starts: the run writes
// there after every figure.
export function resultBase(env: BenchEnv, date: string, host: string): string {
  mkdirSync(env.outDir, { recursive: true });
  // A run of some figures never overwrites a run of all of them.
  const only = env.only ? `-only-${[...env.only].sort().join('-')}` : '';
  const suffix = `${env.mode === 'full' ? '' : `-${env.mode}`}${only}`;
  const stem = join(env.outDir, `${date.slice(0, 10)}-${host}${suffix}`);
  // Nor does a later run of the same day on a machine of the same name (it replaced a committed
  // result once): the later one is `-2`, `-3`, ...
  let base = stem;
  for (let n = 2; existsSync(`${base}.json`) || existsSync(`${base}.md`); n++) base = `${stem}-${n}`;
  return base;
}

export function writeResult(base: string, result: BenchResult): { json: string; md: string } {
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${markdown(result)}\n`);
  return { json: `${base}.json`, md: `${base}.md` };
}
