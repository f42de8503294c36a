import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaNamespace } from '@spindle/backbone';
import { startStandalone } from '@spindle/runtime';
import type { Standalone } from '@spindle/runtime';
import { createTestDatabase, deleteKafkaNamespace } from '@spindle/testing';
import { TEST_ADMIN_KEY } from './auth';
import { TEST_SPINDLE_ENV } from './spindle-modes';

type Env = Record<string, string>;

export interface SpindleSuiteOptions {
  // Names the suite's data directory (`spindle-<name>-XXXXXX` in the temp dir).
  readonly name: string;
  // The mode's variables (SPINDLE_MODES) and the suite's own; a function is read at every start.
  readonly env?: Env | (() => Env);
  // false: the suite starts Spindle itself when it is ready to, with `start()`.
  readonly start?: boolean;
  // true: Spindle logs (to stdout and stderr), for suites that capture what it writes.
  readonly logger?: boolean;
}

// One standalone Spindle for the tests of a describe block. Read its fields inside tests and
// hooks: a restart moves the ports.
export interface SpindleSuite {
  readonly spindle: Standalone;
  readonly url: string;
  readonly mistUrl: string;
  readonly dataDir: string;
  readonly databaseUrl: string;
  // The suite's KAFKA_NAMESPACE (its database's name): suites side by side on one broker, or one
  // that leaked a Spindle, never share a topic or a consumer group.
  readonly kafkaNamespace: string;
  // A topic's name on the broker in the suite's namespace, for reading it directly.
  kafkaTopic(name: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

// What every end-to-end suite did for itself: a throwaway database and data directory, a
// standalone Spindle on them (gateway and Mist on free ports), and all of it gone after the
// block. Registers the block's beforeAll and afterAll; a suite's own afterAll runs after this
// one's unless it is declared before the call.
export function spindleSuite(options: SpindleSuiteOptions): SpindleSuite {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let dataDir: string | undefined;
  let running: Standalone | undefined;
  let brokers: string | undefined; // the Kafka it ran on, if any

  const suite: SpindleSuite = {
    get spindle() {
      return ready(running, 'Spindle is not running');
    },
    get url() {
      return suite.spindle.url;
    },
    get mistUrl() {
      return ready(suite.spindle.mistUrl, 'Mist is not served');
    },
    get dataDir() {
      return ready(dataDir, 'no data directory yet');
    },
    get databaseUrl() {
      return ready(db, 'no database yet').url;
    },
    get kafkaNamespace() {
      return ready(db, 'no database yet').name;
    },
    kafkaTopic(name: string) {
      return new KafkaNamespace(suite.kafkaNamespace).topic(name);
    },
    async start() {
      const env = typeof options.env === 'function' ? options.env() : (options.env ?? {});
      brokers ??= env['KAFKA_BROKERS'];
      running = await startStandalone(
        {
          DATABASE_URL: suite.databaseUrl,
          GATEWAY_PORT: '0',
          SPINDLE_HOST: '127.0.0.1',
          SPINDLE_DATA_DIR: suite.dataDir,
          SPINDLE_ADMIN_KEY: TEST_ADMIN_KEY,
          SPINDLE_DIALECT_AUTH: 'open',
          KAFKA_NAMESPACE: suite.kafkaNamespace,
          // Every dialect on a free port: two suites at once (SPINDLE_TEST_WORKERS=2) never meet
          // on Mist's 2004.
          MIST_PORT: '0',
          ILUM_PORT: '0',
          GENVID_PORT: '0',
          APOLLO_PORT: '0',
          ...TEST_SPINDLE_ENV,
          ...env,
        },
        options.logger ?? false,
      );
    },
    async stop() {
      const stopping = running;
      running = undefined;
      await stopping?.stop();
    },
    async restart() {
      await suite.stop();
      await suite.start();
    },
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), `spindle-${options.name}-`));
    if (options.start !== false) await suite.start();
  });

  afterAll(async () => {
    await suite.stop();
    if (brokers && db)
      await deleteKafkaNamespace(db.name, brokers.split(',')).catch((e: unknown) =>
        console.warn(`could not delete the topics of namespace ${db!.name}: ${String(e)}`),
      );
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  return suite;
}

function ready<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} (read it inside a test or a hook)`);
  return value;
}
