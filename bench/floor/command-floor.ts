import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Pool } from 'pg';
import { floorKafka, joinedConsumer } from './floor-kafka';
import { forkFloorProcess, serveFloorRole } from './floor-process';
import type { FloorServer } from './submit-floor';
import { grouped, insertRows } from './grouped-insert';
import type { FloorRow } from './grouped-insert';

// The floor of figure 1 in the `all` topology: a durable submit's hops when the HTTP front and the
// service that records the job are two processes and the command crosses Kafka both ways, with no
// work in them. The front serves `POST /jobs` with Fastify and sends each request to a request
// topic, the requests that arrive while a produce request is in flight together in the next (as
// Spindle's coalescing producer); the owner consumes that topic (the bus's fetch wait), commits
// each fetched batch in one multi-row insert, and sends the batch's replies in one produce
// request; the front's reply consumer answers each request 202 `{id}`. No validation, no events,
// no outbox, no Nest: what is left is HTTP in, a produce and a fetch, one commit, a produce and a
// fetch, HTTP out. A goal above what this reaches is out of reach of any design that carries
// commands between processes on Kafka, on this machine.

export interface CommandFloorSetup {
  readonly databaseUrl: string;
  readonly brokers: readonly string[];
  // How long the broker may hold an empty fetch: the bus's (DEFAULT_FETCH_WAIT_MS).
  readonly fetchWaitMs: number;
}

interface Setup extends CommandFloorSetup {
  readonly requests: string;
  readonly replies: string;
}

type Request = { readonly kind: 'cpu' } | { readonly kind: 'stop' };
type Answer =
  { readonly kind: 'up'; readonly url?: string } | { readonly kind: 'cpu'; readonly seconds: number };

const POOL_SIZE = 4; // DB_POOL_SIZE's default: the connections one Spindle process has

export async function startCommandFloor(setup: CommandFloorSetup): Promise<FloorServer> {
  const suffix = randomUUID();
  const topics = { requests: `command-floor-requests-${suffix}`, replies: `command-floor-replies-${suffix}` };
  const admin = floorKafka('command-floor', setup.brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  const spawn = (role: string) =>
    forkFloorProcess<Answer>(__filename, role, { ...setup, ...topics }, 'the command floor');
  const owner = spawn('--command-floor-owner');
  try {
    await owner.next();
    const front = spawn('--command-floor-front');
    const up = await front.next();
    if (up.kind !== 'up' || !up.url) throw new Error('the command floor did not start');
    const cpuOf = async (part: typeof owner) => {
      const answered = part.next();
      part.child.send({ kind: 'cpu' } satisfies Request);
      const answer = await answered;
      return answer.kind === 'cpu' ? answer.seconds : NaN;
    };
    return {
      url: up.url,
      cpuSeconds: async () => (await cpuOf(front)) + (await cpuOf(owner)),
      stop: async () => {
        await Promise.all([front.stop(), owner.stop()]);
        const cleanup = floorKafka('command-floor', setup.brokers).admin();
        await cleanup.connect();
        await cleanup.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
        await cleanup.disconnect();
      },
    };
  } catch (e) {
    await owner.stop();
    throw e;
  }
}

// Answers the bench's requests for its CPU, and ends on `stop` once `close` has run.
function answerBench(close: () => Promise<unknown>): void {
  process.on('message', (request: Request) => {
    if (request.kind === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ kind: 'cpu', seconds: (user + system) / 1e6 } satisfies Answer);
    } else void close().finally(() => process.exit(0));
  });
}

async function serveFront({ brokers, requests, replies, fetchWaitMs }: Setup): Promise<void> {
  const kafka = floorKafka('command-floor-front', brokers);
  const producer = kafka.producer();
  await producer.connect();
  const waiting = new Map<string, () => void>();
  const consumer = await joinedConsumer(
    kafka,
    { group: 'command-floor-front', topic: replies, fetchWaitMs },
    async (batch) => {
      for (const message of batch.messages) waiting.get(message.key!.toString())?.();
    },
  );
  const send = grouped<FloorRow>(async (batch) => {
    await producer.send({
      topic: requests,
      messages: batch.map((r) => ({ key: r.id, value: JSON.stringify(r) })),
    });
  });
  const app = Fastify();
  app.post('/jobs', async (request, reply) => {
    const id = randomUUID();
    const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
    await send({ id, body: request.body });
    await answered;
    waiting.delete(id);
    return reply.code(202).send({ id });
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  answerBench(() =>
    app
      .close()
      .then(() => consumer.disconnect())
      .then(() => producer.disconnect()),
  );
  process.send!({ kind: 'up', url } satisfies Answer);
}

async function serveOwner({ databaseUrl, brokers, requests, replies, fetchWaitMs }: Setup): Promise<void> {
  const pool = new Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  await pool.query('drop table if exists floor_commands');
  await pool.query(
    'create table floor_commands (id uuid primary key, body jsonb not null, at timestamptz not null default now())',
  );
  const kafka = floorKafka('command-floor-owner', brokers);
  const producer = kafka.producer();
  await producer.connect();
  const consumer = await joinedConsumer(
    kafka,
    { group: 'command-floor-owner', topic: requests, fetchWaitMs },
    async (batch) => {
      const rows = batch.messages.map((m) => JSON.parse(m.value!.toString()) as FloorRow);
      await insertRows(pool, 'floor_commands', rows);
      await producer.send({ topic: replies, messages: rows.map((r) => ({ key: r.id, value: '{}' })) });
    },
  );
  answerBench(() =>
    consumer
      .disconnect()
      .then(() => producer.disconnect())
      .then(() => pool.end()),
  );
  process.send!({ kind: 'up' } satisfies Answer);
}

serveFloorRole<Setup>({ '--command-floor-front': serveFront, '--command-floor-owner': serveOwner });
