import { readFileSync } from 'node:fs';

// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, so the
// hot spots of a service under bench load can be read without a browser.
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
const hits = new Map<number, number>();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const n = hits.get(node.id) ?? 0;
  if (n === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm:');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + n);
  const pkg = url.includes('node_modules/')
    ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
    : url.startsWith('node:') || url === ''
      ? url || `(${functionName})`
      : url
          .replace(/.*\/work\/main\//, '')
          .split('/')
          .slice(0, 3)
          .join('/');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n);
}
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
show('self time by package', byPackage);
show('self time by function', byFunction);

// Native frames (socket writes, say) charged to the first package frame above them.
const parent = new Map<number, ProfileNode>();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
const nativeBy = new Map<string, number>();
for (const node of profile.nodes) {
  const n = hits.get(node.id) ?? 0;
  if (
    n === 0 ||
    node.callFrame.url !== '' ||
    !['writev', 'writeBuffer', 'writeUtf8String'].includes(node.callFrame.functionName)
  )
    continue;
  let up = parent.get(node.id);
  while (up && !up.callFrame.url.includes('node_modules/') && !up.callFrame.url.includes('/libs/'))
    up = parent.get(up.id);
  const key = up
    ? `${up.callFrame.functionName} ${up.callFrame.url.replace(/.*node_modules\//, 'nm:').replace(/.*\/work\/main\//, '')}`
    : '(none)';
  nativeBy.set(key, (nativeBy.get(key) ?? 0) + n);
}
void byId;
show('socket writes by the package frame that asked', nativeBy);

// Every busy sample charged to the nearest frame of our own code above it (deepest first): which
// of our files, with the libraries they call, cost the time.
const ownBy = new Map<string, number>();
for (const node of profile.nodes) {
  const n = hits.get(node.id) ?? 0;
  if (n === 0 || ['(idle)', '(program)', '(garbage collector)'].includes(node.callFrame.functionName))
    continue;
  let up: ProfileNode | undefined = node;
  while (up && !/\/(libs|apps|bench)\//.test(up.callFrame.url)) up = parent.get(up.id);
  const key = up
    ? up.callFrame.url.replace(/.*\/work\/main\//, '')
    : '(outside our code: timers, sockets, startup)';
  ownBy.set(key, (ownBy.get(key) ?? 0) + n);
}
show('busy time by our file that caused it (with what it called)', ownBy);
