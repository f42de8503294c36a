import { readFileSync, readdirSync } from 'node:fs';
import { quantile } from '../lib/stats';

// Summarises the files query-trace.ts wrote, per process: each statement's round trips as the
// client saw them (count, p50, p90, total), and how many of an outbox relay's reads found rows
// held back by an open transaction. Usage: query-trace-summary.ts <QUERY_TRACE_DIR> [top]
type Line = [string, number, string?, number?, number?, unknown?, boolean?];

const [dir, topArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: query-trace-summary <QUERY_TRACE_DIR> [top]');
const top = Number(topArg ?? 15);

for (const name of readdirSync(dir).filter((f) => /^query-trace-.*\.jsonl$/.test(f))) {
  const lines = readFileSync(`${dir}/${name}`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
    .sort((a, b) => a[1] - b[1]);
  // A backend runs one statement at a time: its next answer is the one to its last send.
  const sent = new Map<number | undefined, Line>();
  const trips = new Map<string, number[]>();
  const relayReads = { held: 0, taken: 0, empty: 0 };
  for (const line of lines) {
    const [kind, at, text = '', pid, , seen, empty] = line;
    if (kind === 'q>') sent.set(pid, line);
    if (kind !== 'q<') continue;
    const start = sent.get(pid);
    if (start) trips.set(text, [...(trips.get(text) ?? []), at - start[1]]);
    if (seen !== null && seen !== undefined) {
      if (!empty) relayReads.taken++;
      else if (Number(seen) > 0) relayReads.held++;
      else relayReads.empty++;
    }
  }
  const requests = lines.filter((l) => l[0] === 'req').length;
  console.log(`== ${name}: ${requests} HTTP requests`);
  const rows = [...trips].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, top);
  for (const [text, ms] of rows) {
    const sorted = [...ms].sort((a, b) => a - b);
    console.log(
      `${String(ms.length).padStart(7)}  p50 ${quantile(sorted, 0.5).toFixed(2).padStart(7)}  p90 ${quantile(
        sorted,
        0.9,
      )
        .toFixed(2)
        .padStart(7)}  total ${sum(ms).toFixed(0).padStart(7)} ms  ${text}`,
    );
  }
  const reads = relayReads.held + relayReads.taken + relayReads.empty;
  if (reads > 0)
    console.log(
      `outbox relay reads: ${reads}, rows taken ${relayReads.taken}, none there ${relayReads.empty}, ` +
        `held back ${relayReads.held} (${((100 * relayReads.held) / reads).toFixed(1)} %)`,
    );
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
