import { Queue, Worker } from 'bullmq';
import { makeWorkerUtils, run } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { Client } from 'pg';

export const PEERS = ['bullmq', 'pg-boss', 'graphile-worker'] as const;
export type PeerName = (typeof PEERS)[number];

export interface PeerConnections {
  readonly redisUrl: string;
  readonly pgBossUrl: string; // a database of its own
  readonly graphileUrl: string; // a database of its own
}

// The same four operations on each peer, with the settings the reference measurements used
// (../shared/reference/peer-bench/qbench.js): enqueue one, enqueue many, run a handler, count
// what is not done yet.
export interface PeerAdapter {
  add(data: object): Promise<unknown>;
  addBulk(data: readonly object[]): Promise<unknown>;
  reset(): Promise<void>;
  work(
    handler: (data: { ts?: number }) => void,
    mode: 'throughput' | 'latency',
  ): Promise<() => Promise<void>>;
  pending(): Promise<number>;
  close(): Promise<void>;
}

export async function peerAdapter(peer: PeerName, c: PeerConnections): Promise<PeerAdapter> {
  switch (peer) {
    case 'bullmq':
      return bullmq(c.redisUrl);
    case 'pg-boss':
      return pgBoss(c.pgBossUrl);
    case 'graphile-worker':
      return graphile(c.graphileUrl);
  }
}

function redisConnection(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

async function bullmq(redisUrl: string): Promise<PeerAdapter> {
  const connection = redisConnection(redisUrl);
  const queue = new Queue('spindle-bench', {
    connection,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  return {
    add: (data) => queue.add('noop', data),
    addBulk: (data) => queue.addBulk(data.map((d) => ({ name: 'noop', data: d }))),
    reset: () => queue.obliterate({ force: true }),
    work: async (handler, mode) => {
      const worker = new Worker('spindle-bench', async (job) => handler(job.data as { ts?: number }), {
        connection,
        concurrency: mode === 'throughput' ? 100 : 10,
      });
      return () => worker.close();
    },
    pending: async () => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}

async function pgBoss(url: string): Promise<PeerAdapter> {
  const boss = new PgBoss({ connectionString: url });
  boss.on('error', (e: Error) => console.error(`pg-boss: ${e.message}`));
  await boss.start();
  await boss.createQueue('bench');
  const sql = new Client({ connectionString: url });
  await sql.connect();
  // Its fastest settings here: 4 workers fetching batches of 100 every 0.5 s (the minimum).
  const workers = 4;
  return {
    add: (data) => boss.send('bench', data),
    addBulk: (data) => boss.insert(data.map((d) => ({ name: 'bench', data: d }))),
    reset: async () => {
      await sql.query(`delete from pgboss.job where name = 'bench'`);
    },
    work: async (handler) => {
      const ids: string[] = [];
      for (let i = 0; i < workers; i++) {
        ids.push(
          await boss.work<{ ts?: number }>(
            'bench',
            { batchSize: 100, pollingIntervalSeconds: 0.5 },
            async (jobs) => {
              for (const job of jobs) handler(job.data);
            },
          ),
        );
      }
      return async () => {
        for (const id of ids) await boss.offWork({ id });
      };
    },
    pending: async () => {
      const { rows } = await sql.query<{ n: string }>(
        `select count(*) as n from pgboss.job where name = 'bench' and state in ('created', 'retry', 'active')`,
      );
      return Number(rows[0]!.n);
    },
    close: async () => {
      await sql.end();
      await boss.stop({ graceful: false, wait: false });
    },
  };
}

async function graphile(url: string): Promise<PeerAdapter> {
  const utils = await makeWorkerUtils({ connectionString: url });
  await utils.migrate();
  const sql = new Client({ connectionString: url });
  await sql.connect();
  return {
    add: (data) => utils.addJob('noop', data),
    addBulk: (data) => utils.addJobs(data.map((d) => ({ identifier: 'noop', payload: d }))),
    reset: async () => {
      await sql.query('delete from graphile_worker._private_jobs');
    },
    work: async (handler, mode) => {
      // Its documented fast path for throughput: 24 at once, a local queue, batched completion.
      const runner = await run({
        connectionString: url,
        concurrency: mode === 'throughput' ? 24 : 10,
        noHandleSignals: true,
        pollInterval: 2_000,
        taskList: { noop: async (payload) => handler(payload as { ts?: number }) },
        preset: {
          worker:
            mode === 'throughput'
              ? { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
              : { completeJobBatchDelay: -1, failJobBatchDelay: -1 },
        },
      });
      return () => runner.stop();
    },
    pending: async () => {
      const { rows } = await sql.query<{ n: string }>(
        'select count(*) as n from graphile_worker._private_jobs',
      );
      return Number(rows[0]!.n);
    },
    close: async () => {
      await sql.end();
      await utils.release();
    },
  };
}
