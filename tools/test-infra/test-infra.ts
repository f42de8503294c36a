import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { StartupError, startEmbeddedPostgres } from '@spindle/runtime';

// What `npm test` needs, started when it is not already there, and stopped when the tests are
// done (jest's global teardown disconnects, or jest is gone): the Kafka broker from the project's
// own jars, the database on the machine's PostgreSQL, or an embedded PostgreSQL when none answers,
// and the S3-compatible storage of MapReduce jobs (S3Proxy from the project's own jars).
// With SPINDLE_TEST_WORKERS=n (jest's workers), a broker and a PostgreSQL server (the first one
// DATABASE_URL's, the others embedded) for each of the n workers.
// Forked by tools/jest/test-infrastructure.setup.ts; sends {env} once ready.

interface Started {
  readonly what: string;
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..');
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/spindle';
const TEST_EMBEDDED_PG_PORT = 54330; // beside `npm start`'s 54329

const log = (line: string) => console.error(`test-infra: ${line}`);

// One broker per jest worker (SPINDLE_TEST_WORKERS, set by the global setup): the suites' topics and
// consumer groups have fixed names, so two suites at once on one broker would share them. Worker 1's
// is KAFKA_BROKERS; worker n's is on the same host, 2 × (n - 1) ports higher (each broker also
// takes the next port for its controller): 19092, 19094, ... by default.
function brokerAddresses(workers: number): string[] {
  const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
  const first = brokers.split(',')[0]!.trim();
  const at = first.lastIndexOf(':');
  const host = first.slice(0, at);
  const port = Number(first.slice(at + 1));
  return Array.from({ length: workers }, (_, i) => (i === 0 ? brokers : `${host}:${port + 2 * i}`));
}

async function ensureKafka(brokers: string, worker: number): Promise<Started | undefined> {
  const first = brokers.split(',')[0]!.trim();
  const at = first.lastIndexOf(':');
  const host = first.slice(0, at);
  const port = Number(first.slice(at + 1));
  if (await answers(host, port)) {
    log(`Kafka answers at ${first}: using it${worker > 1 ? ` (jest worker ${worker})` : ''}`);
    return undefined;
  }
  if (!LOCAL_HOSTS.has(host))
    throw new StartupError(
      `no Kafka broker answers at ${first} (${worker === 1 ? 'KAFKA_BROKERS' : `jest worker ${worker}'s, derived from KAFKA_BROKERS`})`,
      worker === 1 ? 'start it, or unset KAFKA_BROKERS' : 'start it, or run the tests with --maxWorkers=1',
    );
  // A broker on another port gets a state dir of its own, so the default one is never restarted
  // (all of them share the checkout's jar cache, see kafka-up.sh).
  const givenStateDir = process.env['KAFKA_STATE_DIR'];
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT:
      (worker === 1 ? process.env['KAFKA_CONTROLLER_PORT'] : undefined) ?? String(port + 1),
    KAFKA_STATE_DIR: givenStateDir
      ? worker === 1
        ? givenStateDir
        : `${givenStateDir}-w${worker}`
      : join(ROOT, '.kafka', port === 19092 ? '' : `port-${port}`),
  };
  const t0 = Date.now();
  if ((await script('tools/kafka/kafka-up.sh', env)) !== 0)
    throw new StartupError(
      `no Kafka broker answers at ${first}, and tools/kafka/kafka-up.sh could not start one (see above)`,
      'install Java 17 and Maven, or start a broker and set KAFKA_BROKERS to it',
    );
  log(`started a Kafka broker on ${first} (${seconds(t0)}); it stops after the tests`);
  return {
    what: `the Kafka broker on ${first}`,
    stop: async () => void (await script('tools/kafka/kafka-down.sh', env)),
  };
}

const DEFAULT_S3_ENDPOINT = 'http://127.0.0.1:19000';

async function ensureStorage(): Promise<Started | undefined> {
  const endpoint = new URL(process.env['S3_ENDPOINT'] ?? DEFAULT_S3_ENDPOINT);
  const port = Number(endpoint.port || 80);
  if (await answers(endpoint.hostname, port)) {
    log(`S3 storage answers at ${endpoint.origin}: using it`);
    return undefined;
  }
  if (!LOCAL_HOSTS.has(endpoint.hostname))
    throw new StartupError(
      `no S3 storage answers at ${endpoint.origin} (S3_ENDPOINT)`,
      'start it, or unset S3_ENDPOINT',
    );
  const env = { ...process.env, S3_PORT: String(port), S3_FRESH: '1' };
  const t0 = Date.now();
  if ((await script('tools/s3/s3-up.sh', env)) !== 0)
    throw new StartupError(
      `no S3 storage answers at ${endpoint.origin}, and tools/s3/s3-up.sh could not start one (see above)`,
      'install Java 17 and Maven, or start an S3-compatible server and set S3_ENDPOINT to it',
    );
  log(`started S3Proxy on ${endpoint.origin} (${seconds(t0)}); it stops after the tests`);
  return {
    what: `the S3 storage on ${endpoint.origin}`,
    stop: async () => void (await script('tools/s3/s3-down.sh', env)),
  };
}

// The JVM runner (tools/jvm-runner), which SCALA groups and jvm-runner tasks need: built once, up
// to date afterwards in a second.
async function ensureJvmRunner(): Promise<undefined> {
  const t0 = Date.now();
  if ((await script('tools/jvm-runner/build.sh', process.env)) !== 0)
    throw new StartupError(
      'tools/jvm-runner/build.sh could not build the JVM runner (see above)',
      'install Java 17 and Maven (Gson comes from Maven Central)',
    );
  log(`the JVM runner is built (${seconds(t0)})`);
  return undefined;
}

// A database server per jest worker: worker 1's is the PostgreSQL of DATABASE_URL, every other
// worker's an embedded PostgreSQL on a free port (data in .spindle/test-w<n>). One server for all
// would couple them: the outbox relays and the feeds read the server-wide snapshot horizon, so one
// suite's long transaction would hold back what the other worker's suite waits for. On each, the
// database `<name>_w<n>` (spindle_w1, ...); suites that run whole services make throwaway
// databases of their own besides (@spindle/testing createTestDatabase).
function workerDatabaseUrl(url: string, worker: number): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/$/, '') || '/spindle'}_w${worker}`;
  return u.toString();
}

async function ensureDatabases(workers: number): Promise<{ urls: string[]; started: Started[] }> {
  const servers = await Promise.allSettled([
    ensureDatabaseServer(),
    ...Array.from({ length: workers - 1 }, (_, i) => embeddedServer(i + 2)),
  ]);
  const started = servers.flatMap((s) =>
    s.status === 'fulfilled' && s.value.started ? [s.value.started] : [],
  );
  const failed = servers.find((s) => s.status === 'rejected');
  const urls = servers.map((s, i) => (s.status === 'fulfilled' ? workerDatabaseUrl(s.value.url, i + 1) : ''));
  const made = failed
    ? []
    : await Promise.all(
        urls.map((url) => script('tools/postgres/ensure-db.sh', { ...process.env, DATABASE_URL: url })),
      );
  if (failed || made.some((code) => code !== 0)) {
    for (const s of started) await s.stop();
    if (failed) throw failed.reason;
    throw new StartupError(
      `the databases ${urls.map(redact).join(', ')} could not be made ready (see above)`,
      'check DATABASE_URL (user, password, rights to create a database)',
    );
  }
  return { urls, started };
}

async function embeddedServer(worker: number): Promise<{ url: string; started: Started }> {
  const port = await freePort();
  const t0 = Date.now();
  const db = await startEmbeddedPostgres(join(ROOT, '.spindle', `test-w${worker}`), port);
  log(
    `embedded PostgreSQL for jest worker ${worker} on 127.0.0.1:${port} (${seconds(t0)}); it stops after the tests`,
  );
  return {
    url: db.url,
    started: { what: `jest worker ${worker}'s embedded PostgreSQL`, stop: () => db.stop() },
  };
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

async function ensureDatabaseServer(): Promise<{ url: string; started?: Started }> {
  const given = process.env['DATABASE_URL'];
  const url = given ?? DEFAULT_DATABASE_URL;
  const server = new URL(url);
  const host = server.hostname || '127.0.0.1';
  const port = Number(server.port || 5432);
  const overSocket = server.searchParams.get('host')?.startsWith('/') ?? false;
  if (overSocket || (await answers(host, port))) return { url };
  if (given)
    throw new StartupError(
      `no PostgreSQL answers at ${host}:${port} (DATABASE_URL)`,
      'start it, or unset DATABASE_URL to let npm test run an embedded PostgreSQL',
    );
  const embeddedPort = Number(process.env['EMBEDDED_PG_PORT'] ?? TEST_EMBEDDED_PG_PORT);
  log(`no PostgreSQL answers at ${host}:${port}: starting an embedded one on 127.0.0.1:${embeddedPort}`);
  const t0 = Date.now();
  const db = await startEmbeddedPostgres(join(ROOT, '.spindle', 'test'), embeddedPort);
  log(`embedded PostgreSQL ready (${seconds(t0)}); it stops after the tests`);
  return { url: db.url, started: { what: 'the embedded PostgreSQL', stop: () => db.stop() } };
}

async function main(): Promise<void> {
  const started: Started[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const s of started.reverse()) {
        log(`stopping ${s.what}`);
        await s.stop().catch((e: unknown) => log(`stopping ${s.what} failed: ${String(e)}`));
      }
    })());
  const finish = (code: number) => void stopAll().finally(() => process.exit(code));
  process.on('disconnect', () => finish(0));
  process.on('SIGINT', () => finish(130));
  process.on('SIGTERM', () => finish(143));

  const workers = Math.max(1, Number(process.env['SPINDLE_TEST_WORKERS'] ?? 1));
  const brokers = brokerAddresses(workers);
  const [database, storage, jvmRunner, ...kafka] = await Promise.allSettled([
    ensureDatabases(workers),
    ensureStorage(),
    ensureJvmRunner(),
    ...brokers.map((address, i) => ensureKafka(address, i + 1)),
  ]);
  for (const r of kafka) if (r.status === 'fulfilled' && r.value) started.push(r.value);
  if (database.status === 'fulfilled') started.push(...database.value.started);
  if (storage.status === 'fulfilled' && storage.value) started.push(storage.value);
  const failed = [database, storage, jvmRunner, ...kafka].filter((r) => r.status === 'rejected');
  if (database.status === 'rejected' || failed.length > 0) {
    for (const r of failed)
      console.error(r.reason instanceof StartupError ? `test-infra: ${r.reason.message}` : r.reason);
    return finish(1);
  }
  const s3Endpoint = new URL(process.env['S3_ENDPOINT'] ?? DEFAULT_S3_ENDPOINT).origin;
  // What each jest worker uses (read by tools/jest/integration-environment.ts); the S3 server is
  // shared: every suite writes to buckets of its own.
  const perWorker = Object.fromEntries(
    brokers.map((address, i) => [
      String(i + 1),
      { DATABASE_URL: database.value.urls[i]!, KAFKA_BROKERS: address, S3_ENDPOINT: s3Endpoint },
    ]),
  );
  process.send!({
    env: {
      DATABASE_URL: database.value.urls[0]!,
      KAFKA_BROKERS: brokers[0]!,
      S3_ENDPOINT: s3Endpoint,
      SPINDLE_TEST_WORKER_ENV: JSON.stringify(perWorker),
    },
  });
}

function script(path: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  // The scripts' output goes to stderr: stdout is the tests'.
  const child = spawn('bash', [join(ROOT, path)], { cwd: ROOT, env, stdio: ['ignore', 2, 2] });
  return new Promise((done) => {
    child.once('error', () => done(127));
    child.once('exit', (code) => done(code));
  });
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port, timeout: 2000 });
    const end = (up: boolean) => {
      socket.destroy();
      done(up);
    };
    socket.once('connect', () => end(true));
    socket.once('timeout', () => end(false));
    socket.once('error', () => end(false));
  });
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

const seconds = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

void main();
