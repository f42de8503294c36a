import { fork } from 'node:child_process';
import { nowMs, perSecond, summarize } from '../lib/stats';
import type { LatencySummary } from '../lib/stats';
import { peerAdapter } from './peer-adapters';
import type { PeerAdapter, PeerConnections, PeerName } from './peer-adapters';

// One peer measurement in a process of its own (as its users run it: the library in their
// process), answering over IPC. `latency` forks one more process as the open-loop producer.
export type PeerTask =
  | { readonly kind: 'submit'; readonly seconds: number; readonly concurrency: number }
  | { readonly kind: 'latency'; readonly rate: number; readonly seconds: number }
  | { readonly kind: 'drain'; readonly count: number }
  | { readonly kind: 'produce'; readonly rate: number; readonly seconds: number };

export type PeerAnswer =
  | {
      readonly kind: 'submit';
      readonly perSecond: number;
      readonly latency: LatencySummary;
      readonly errors: number;
    }
  | {
      readonly kind: 'latency';
      readonly rate: number;
      readonly latency: LatencySummary;
      readonly lost: number;
    }
  | {
      readonly kind: 'drain';
      readonly count: number;
      readonly handledPerSecond: number;
      readonly completedPerSecond: number;
    }
  | { readonly kind: 'produce' };

export function runPeer(
  peer: PeerName,
  connections: PeerConnections,
  task: PeerTask,
  timeoutMs = 300_000,
): Promise<PeerAnswer> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--peer-process'], {
      execArgv: ['-r', '@swc-node/register'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${peer} ${task.kind}: no answer after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (answer: PeerAnswer) => {
      clearTimeout(timer);
      resolve(answer);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${peer} ${task.kind}: exited with ${code}`));
    });
    child.send({ peer, connections, task });
  });
}

async function submit(a: PeerAdapter, seconds: number, concurrency: number): Promise<PeerAnswer> {
  await a.reset();
  const latencies: number[] = [];
  let errors = 0;
  const started = nowMs();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < until) {
        const t = nowMs();
        try {
          await a.add({ ts: t });
          latencies.push(nowMs() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = nowMs() - started;
  await a.reset();
  return {
    kind: 'submit',
    perSecond: perSecond(latencies.length, elapsed),
    latency: summarize(latencies),
    errors,
  };
}

async function latency(
  a: PeerAdapter,
  peer: PeerName,
  connections: PeerConnections,
  rate: number,
  seconds: number,
): Promise<PeerAnswer> {
  await a.reset();
  const samples: number[] = [];
  const stop = await a.work((data) => {
    if (typeof data.ts === 'number') samples.push(nowMs() - data.ts);
  }, 'latency');
  await new Promise((r) => setTimeout(r, 1_500)); // the workers are polling before the first job
  const total = Math.round(rate * seconds);
  const producer = runPeer(peer, connections, { kind: 'produce', rate, seconds });
  const deadline = nowMs() + (seconds + 30) * 1000;
  while (samples.length < total && nowMs() < deadline) await new Promise((r) => setTimeout(r, 20));
  await producer;
  await stop();
  await a.reset();
  return { kind: 'latency', rate, latency: summarize(samples), lost: total - samples.length };
}

async function produce(a: PeerAdapter, rate: number, seconds: number): Promise<PeerAnswer> {
  const total = Math.round(rate * seconds);
  const started = nowMs();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - nowMs();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(a.add({ ts: nowMs() }));
  }
  await Promise.all(inflight);
  return { kind: 'produce' };
}

async function drain(a: PeerAdapter, count: number): Promise<PeerAnswer> {
  await a.reset();
  for (let i = 0; i < count; i += 100) {
    await a.addBulk(Array.from({ length: Math.min(100, count - i) }, (_, k) => ({ i: i + k })));
  }
  let handled = 0;
  const started = nowMs();
  const stop = await a.work(() => void handled++, 'throughput');
  while (handled < count) await new Promise((r) => setTimeout(r, 5));
  const handledAt = nowMs();
  while ((await a.pending()) > 0) await new Promise((r) => setTimeout(r, 20));
  const completedAt = nowMs();
  await stop();
  await a.reset();
  return {
    kind: 'drain',
    count,
    handledPerSecond: perSecond(count, handledAt - started),
    completedPerSecond: perSecond(count, completedAt - started),
  };
}

async function serve(message: {
  peer: PeerName;
  connections: PeerConnections;
  task: PeerTask;
}): Promise<PeerAnswer> {
  const { peer, connections, task } = message;
  const a = await peerAdapter(peer, connections);
  try {
    switch (task.kind) {
      case 'submit':
        return await submit(a, task.seconds, task.concurrency);
      case 'latency':
        return await latency(a, peer, connections, task.rate, task.seconds);
      case 'drain':
        return await drain(a, task.count);
      case 'produce':
        return await produce(a, task.rate, task.seconds);
    }
  } finally {
    await a.close();
  }
}

if (process.argv.includes('--peer-process')) {
  process.once('message', (message: { peer: PeerName; connections: PeerConnections; task: PeerTask }) => {
    serve(message).then(
      (answer) => process.send!(answer, () => process.exit(0)),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
