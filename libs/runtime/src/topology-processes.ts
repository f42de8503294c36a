import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Logger } from '@nestjs/common';
import { loadConfig, withInstallationSecrets } from '@spindle/platform';
import { bootServices } from './boot';
import type { RunningApp } from './boot';
import { startEmbeddedPostgres } from './embedded-postgres/embedded-postgres';
import { settleGateway } from './standalone';
import { StartupError } from './startup-error';
import { TOPOLOGIES, internalUrlsOf, partOf, partPort } from './topology';
import type { Part, TopologyName } from './topology';

// The environment variable that makes a process one part of a topology (set by the supervisor).
export const PART_VARIABLE = 'SPINDLE_PART';

// One process of a topology: the services SPINDLE_PART names, over the Kafka and Postgres the
// supervisor passed on. Tells the supervisor (IPC) once it serves.
export async function startPart(services: readonly string[], env = process.env): Promise<RunningApp> {
  const part = partOf(services);
  const config = loadConfig(env, 'distributed');
  const running = await bootServices({
    config,
    services: part.services,
    name: part.name,
    port: partPort(part, config),
  });
  if (part.services.includes('gateway')) await settleGateway(running.app, config);
  // A supervisor that died without stopping its parts (SIGKILL) leaves none of them behind.
  process.once('disconnect', () => void running.stop().finally(() => process.exit(0)));
  process.send?.({ up: running.url });
  return running;
}

// V8 flags of every part. The young generation may grow to 32 MB a semi-space (Node 20's default
// is 16 MB): a part under load allocates fast enough that its scavenges were 3.6-3.9 % of the
// control process's CPU samples under submits, 2.3-2.5 % with 32 MB (BENCHMARKS.md, 2026-12-08
// later), for at most a few tens of MB more per busy process. A value the supervisor was given
// (its command line or NODE_OPTIONS) is passed on instead.
const PART_V8_FLAGS = ['--max-semi-space-size=32'];

export function partExecArgv(
  execArgv = process.execArgv,
  nodeOptions = process.env['NODE_OPTIONS'] ?? '',
): string[] {
  const given = (flag: string) => {
    const name = flag.split('=')[0]!;
    return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => a === name || a.startsWith(`${name}=`));
  };
  return [...PART_V8_FLAGS.filter((flag) => !given(flag)), ...execArgv];
}

export interface Supervised {
  readonly url: string;
  stop(): Promise<void>;
}

// `npm start` with Kafka (topology `node`) and `npm run start:all` (topology `all`): forks one
// process per part of the topology, each running `entry` with SPINDLE_PART, and prefixes their
// output. When one part dies, the others are stopped and the supervisor exits non-zero, so a
// service manager (systemd, a container runtime) restarts the whole installation on one machine.
export async function superviseTopology(
  topology: Exclude<TopologyName, 'single'>,
  entry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Supervised> {
  const logger = new Logger('spindle');
  // `all` is the multi-machine topology on one: Kafka and Postgres default to the development ones.
  const base = loadConfig(env, topology === 'all' ? 'distributed' : 'standalone');
  if (base.bus !== 'kafka')
    throw new StartupError(
      `SPINDLE_TOPOLOGY=${topology} runs services in separate processes, which talk over Kafka`,
      'set KAFKA_BROKERS (npm run infra:up starts a broker), or SPINDLE_TOPOLOGY=single',
    );
  const embedded = base.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(base.dataDir, base.ports.embeddedPostgres);
  // Settled here once, so the parts find the installation's secrets already in the data dir.
  const config = withInstallationSecrets({ ...base, databaseUrl: base.databaseUrl ?? embedded!.url });
  const parts = TOPOLOGIES[topology];
  const internalPort = base.ports.internal || (await freePort());
  const shared: NodeJS.ProcessEnv = {
    ...env,
    DATABASE_URL: config.databaseUrl,
    SPINDLE_INTERNAL_PORT: String(internalPort),
    ...internalUrlsOf(parts, config, internalPort, env),
  };
  const children = new Map<Part, ChildProcess>();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([...children.values()].map((child) => stopChild(child)));
      await embedded?.stop();
    })());
  const width = Math.max(...parts.map((p) => p.name.length));
  const ups = parts.map(
    (part) =>
      new Promise<string>((resolve, reject) => {
        const child = fork(entry, [], {
          env: { ...shared, [PART_VARIABLE]: part.services.join(',') },
          execArgv: partExecArgv(),
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        });
        children.set(part, child);
        const label = part.name.padEnd(width);
        for (const stream of [child.stdout!, child.stderr!])
          createInterface({ input: stream }).on('line', (line) =>
            process.stdout.write(`${label} | ${line}\n`),
          );
        child.on('message', (m: { up?: string }) => m.up && resolve(m.up));
        child.once('exit', (code, signal) => {
          children.delete(part);
          reject(
            new StartupError(
              `the ${part.name} process exited (${signal ?? code}) before it was up`,
              'see its output above',
            ),
          );
          if (stopping) return;
          logger.error(`the ${part.name} process exited (${signal ?? code}); stopping the others`);
          process.exitCode = 1;
          void stop().then(() => process.exit(1));
        });
      }),
  );
  try {
    const urls = await Promise.all(ups);
    const gateway = parts.findIndex((p) => p.services.includes('gateway'));
    return { url: urls[gateway]!, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
