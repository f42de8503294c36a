import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { Producer } from 'kafkajs';
import { Pool } from 'pg';
import { floorKafka, joinedConsumer } from './floor-kafka';
import { forkFloorProcess, serveFloorRole } from './floor-process';
import type { FloorProcess } from './floor-process';
import { groupedInsert } from './grouped-insert';

// The floor of figure 2: the hops from a durable submit to a warm runner calling the job, with no
// work in them, in the processes Spindle's node topology has. A front process serves `POST /jobs`
// with Fastify, commits what arrived while the previous commit was in flight in one multi-row
// insert (Spindle's group commit) and answers 202 `{id}`; it publishes each committed batch to a Kafka
// topic in one produce request (acks from all replicas, idempotent, one request in flight: the
// bus's producer), straight from memory: no outbox row read back, no assignment decided, no
// events. A worker process consumes the topic (the bus's fetch wait) and hands each job over IPC
// to a runner process it forked, which stamps the moment it is called, as the `stamp` function
// does. What is left: HTTP in, one commit, one Kafka produce and fetch, one IPC hop. A submit →
// start goal below what this reaches is out of reach of any design that keeps the submit durable
// before it answers and carries assignments on Kafka, on this machine.

type FrontRequest = { readonly kind: 'stop' };
type WorkerRequest = { readonly kind: 'starts' } | { readonly kind: 'stop' };
type Answer =
  | { readonly kind: 'up'; readonly url?: string }
  | { readonly kind: 'starts'; readonly starts: readonly number[] };

export interface StartFloor {
  readonly url: string;
  // Every job's submit → start (ms) so far: its runner's clock minus the `ts` in its arguments.
  starts(): Promise<readonly number[]>;
  stop(): Promise<void>;
}

interface FloorSetup {
  readonly databaseUrl: string;
  readonly brokers: readonly string[];
  readonly topic: string;
  // How long the broker may hold an empty fetch: the bus's (DEFAULT_FETCH_WAIT_MS).
  readonly fetchWaitMs: number;
}

export async function startStartFloor(setup: FloorSetup): Promise<StartFloor> {
  const kafka = floorKafka('start-floor', setup.brokers);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [setup.topic] }).catch(() => undefined);
    await admin.createTopics({ topics: [{ topic: setup.topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const worker = spawn('--start-floor-worker', setup);
  try {
    await worker.next();
    const front = spawn('--start-floor-front', setup);
    const up = await front.next();
    if (up.kind !== 'up' || !up.url) throw new Error('the start floor did not start');
    return {
      url: up.url,
      starts: async () => {
        const answered = worker.next();
        worker.child.send({ kind: 'starts' } satisfies WorkerRequest);
        const answer = await answered;
        return answer.kind === 'starts' ? answer.starts : [];
      },
      stop: async () => {
        await Promise.all([front.stop(), worker.stop()]);
      },
    };
  } catch (e) {
    await worker.stop();
    throw e;
  }
}

function spawn(role: string, setup: FloorSetup): FloorProcess<Answer> {
  return forkFloorProcess<Answer>(__filename, role, setup, 'the start floor');
}

async function serveFront({ databaseUrl, brokers, topic }: FloorSetup): Promise<void> {
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  await pool.query('drop table if exists floor_starts');
  await pool.query(
    'create table floor_starts (id uuid primary key, body jsonb not null, at timestamptz not null default now())',
  );
  const producer: Producer = floorKafka('start-floor', brokers).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();

  // Each committed batch published in one produce request as soon as it is committed.
  const insert = groupedInsert(
    pool,
    'floor_starts',
    (batch) =>
      void producer
        .send({
          topic,
          acks: -1,
          messages: batch.map((b) => ({ key: b.id, value: JSON.stringify({ id: b.id, body: b.body }) })),
        })
        .catch((e: unknown) => console.error('start floor: a publish failed', e)),
  );
  const app = Fastify();
  app.post('/jobs', async (request, reply) => {
    const id = randomUUID();
    await insert({ id, body: request.body });
    return reply.code(202).send({ id });
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (request: FrontRequest) => {
    if (request.kind !== 'stop') return;
    void app
      .close()
      .then(() => producer.disconnect())
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
  process.send!({ kind: 'up', url } satisfies Answer);
}

async function serveWorker({ brokers, topic, fetchWaitMs }: FloorSetup): Promise<void> {
  const runner = fork(__filename, ['--start-floor-runner'], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const starts: number[] = [];
  runner.on('message', (stamp: { ts: number; at: number }) => starts.push(stamp.at - stamp.ts));
  const consumer = await joinedConsumer(
    floorKafka('start-floor', brokers),
    { group: 'start-floor', topic, fetchWaitMs },
    async (batch) => {
      for (const message of batch.messages) {
        const { body } = JSON.parse(message.value!.toString()) as { body: { args?: { ts?: number } } };
        runner.send({ ts: body.args?.ts ?? NaN });
      }
    },
  );
  process.on('message', (request: WorkerRequest) => {
    if (request.kind === 'starts') process.send!({ kind: 'starts', starts } satisfies Answer);
    else
      void consumer
        .disconnect()
        .then(() => runner.kill())
        .finally(() => process.exit(0));
  });
  process.send!({ kind: 'up' } satisfies Answer);
}

// The warm runner: called with a job's arguments, it stamps the moment, as `stamp.js` does.
function serveRunner(): void {
  process.on('message', ({ ts }: { ts: number }) =>
    process.send!({ ts, at: performance.timeOrigin + performance.now() }),
  );
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--start-floor-runner')) serveRunner();
serveFloorRole<FloorSetup>({ '--start-floor-front': serveFront, '--start-floor-worker': serveWorker });
