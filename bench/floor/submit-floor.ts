import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Pool } from 'pg';
import { groupedInsert } from './grouped-insert';

// The floor of figure 1: the hops of a durable submit with no work in them. A process of its own
// serves `POST /jobs` with Fastify (the gateway's HTTP server) and answers 202 `{id}` once the
// request's row is committed in PostgreSQL (`synchronous_commit` as the server has it, as
// Spindle's), on the same server and load generator as Spindle. No validation, no events, no
// outbox, no read-your-writes: what is left is HTTP in, one commit, HTTP out. Two ways to commit:
// `own` gives every request a transaction of its own (pooled connections, as many as Spindle's
// pool); `grouped` commits every request that arrived while the previous commit was in flight in
// one multi-row insert (the group commit Spindle's intake does). A goal above what the floor
// reaches is out of reach of any design that keeps these hops on this machine.
export type FloorCommit = 'own' | 'grouped';

export interface FloorServer {
  readonly url: string;
  // The floor process's CPU time so far, in seconds.
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

type FloorRequest = { readonly kind: 'cpu' } | { readonly kind: 'stop' };
type FloorAnswer =
  { readonly kind: 'up'; readonly url: string } | { readonly kind: 'cpu'; readonly seconds: number };

const POOL_SIZE = 4; // DB_POOL_SIZE's default: the connections one Spindle process has

export function startSubmitFloor(databaseUrl: string, commit: FloorCommit): Promise<FloorServer> {
  const child = fork(__filename, ['--submit-floor'], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (): Promise<FloorAnswer> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the submit floor exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (answer: FloorAnswer) => {
        child.off('exit', onExit);
        resolve(answer);
      });
    });
  const up = next();
  child.send({ databaseUrl, commit });
  return up.then((answer) => {
    if (answer.kind !== 'up') throw new Error('the submit floor did not start');
    return {
      url: answer.url,
      cpuSeconds: async () => {
        const answered = next();
        child.send({ kind: 'cpu' } satisfies FloorRequest);
        const cpu = await answered;
        return cpu.kind === 'cpu' ? cpu.seconds : NaN;
      },
      stop: () =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.send({ kind: 'stop' } satisfies FloorRequest);
        }),
    };
  });
}

async function serve(databaseUrl: string, commit: FloorCommit): Promise<void> {
  const pool = new Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  await pool.query('drop table if exists floor_submits');
  await pool.query(
    'create table floor_submits (id uuid primary key, body jsonb not null, at timestamptz not null default now())',
  );
  const insertOne = (id: string, body: unknown) =>
    pool.query('insert into floor_submits (id, body) values ($1, $2)', [id, JSON.stringify(body)]);

  const insertGrouped = groupedInsert(pool, 'floor_submits');

  const app = Fastify();
  app.post('/jobs', async (request, reply) => {
    const id = randomUUID();
    await (commit === 'own' ? insertOne(id, request.body) : insertGrouped({ id, body: request.body }));
    return reply.code(202).send({ id });
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (request: FloorRequest) => {
    if (request.kind === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ kind: 'cpu', seconds: (user + system) / 1e6 } satisfies FloorAnswer);
    } else {
      void app
        .close()
        .then(() => pool.end())
        .finally(() => process.exit(0));
    }
  });
  process.send!({ kind: 'up', url } satisfies FloorAnswer);
}

if (process.argv.includes('--submit-floor')) {
  process.once('message', ({ databaseUrl, commit }: { databaseUrl: string; commit: FloorCommit }) => {
    serve(databaseUrl, commit).catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  });
}
