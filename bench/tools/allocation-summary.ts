import { readFileSync } from 'node:fs';

// Summarises a sampled allocation profile (`.heapprofile`, from cpu-profile-preload.cjs with
// PROF_ALLOCATIONS=1): the bytes allocated by the nearest package or file of ours, by the frame
// that allocated them, and by the frames that called a frame asked about.
//   allocation-summary.ts <file.heapprofile> [top (25)] [function name whose callers to show]
interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationNode[];
}

const [file, topArg, callersOf] = process.argv.slice(2);
if (!file) throw new Error('usage: allocation-summary <file.heapprofile> [top] [function]');
const top = Number(topArg ?? 25);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocationNode };

const frameOf = ({ functionName, url, lineNumber }: AllocationNode['callFrame']): string =>
  `${functionName || '(anonymous)'} ${url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'nm:')
    .replace(/.*\/work\/main\//, '')}:${lineNumber + 1}`;
const packageOf = (url: string): string | undefined =>
  /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? /\/((libs|apps|bench)\/[^/]+)\//.exec(url)?.[1];

let total = 0;
const byPackage = new Map<string, number>();
const byFrame = new Map<string, number>();
const callers = new Map<string, number>();
const add = (m: Map<string, number>, key: string, bytes: number): void => {
  m.set(key, (m.get(key) ?? 0) + bytes);
};
// Depth first with an explicit stack: allocation trees are deep.
const pending: { node: AllocationNode; above: AllocationNode['callFrame'][] }[] = [{ node: head, above: [] }];
while (pending.length > 0) {
  const { node, above } = pending.pop()!;
  const bytes = node.selfSize;
  if (bytes > 0) {
    total += bytes;
    add(byFrame, frameOf(node.callFrame), bytes);
    const owner = [node.callFrame, ...[...above].reverse()].map((f) => packageOf(f.url)).find(Boolean);
    add(byPackage, owner ?? '(node or V8)', bytes);
    if (callersOf !== undefined && node.callFrame.functionName === callersOf)
      add(callers, above.slice(-3).map(frameOf).reverse().join(' <- '), bytes);
  }
  for (const child of node.children) pending.push({ node: child, above: [...above, node.callFrame] });
}

const show = (title: string, m: Map<string, number>, of: number): void => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / of) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${(total / 1e6).toFixed(1)} MB sampled`);
show('bytes by the nearest package or file of ours', byPackage, total);
show('bytes by the frame that allocated them', byFrame, total);
if (callersOf !== undefined) {
  const of = [...callers.values()].reduce((a, b) => a + b, 0);
  show(`bytes allocated in ${callersOf}, by its callers (nearest first)`, callers, of || 1);
}
