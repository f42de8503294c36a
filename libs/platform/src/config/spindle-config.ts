import { createHash } from 'node:crypto';
import { z } from 'zod';
import { kafkaSecurityEnv, kafkaSecurityOf } from './kafka-security';
import type { KafkaSecurity } from './kafka-security';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

const authPolicy = z.enum(['open', 'keys']);
export type AuthPolicy = z.infer<typeof authPolicy>;

const MASTER_KEY_RULE = 'must be the base64 encoding of 32 bytes (openssl rand -base64 32)';

// The job users a host's pool holds unless SPINDLE_JOB_USERS says otherwise. Tests that lease job
// users take the same pool: an agent running beside them (another suite) takes the lowest free
// users first, and a test pool of 16 found none while a benchmark ran 16 exclusive jobs.
export const DEFAULT_JOB_USERS = 256;

// Everything configurable comes from the environment, validated once at start.
const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  KAFKA_BROKERS: z.string().min(1).optional(),
  KAFKA_CLIENT_ID: z.string().min(1).default('spindle'),
  KAFKA_TOPIC_PARTITIONS: positiveInt.default(3),
  KAFKA_FETCH_WAIT_MS: positiveInt.default(5_000),
  // Keeps installations sharing a broker apart: Spindle's topics and consumer groups get it in
  // front (`<namespace>.spindle.scheduler.job.v1`); see the backbone's kafka-namespace.ts.
  KAFKA_NAMESPACE: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
      'must be 1 to 64 letters, digits, "_" or "-", starting with a letter or digit',
    )
    .optional(),
  // TLS and SASL for every Kafka client (kafka-security.ts, docs/security.md).
  ...kafkaSecurityEnv,
  SPINDLE_HOST: z.string().min(1).default('127.0.0.1'),
  SPINDLE_DATA_DIR: z.string().min(1).default('.spindle'),
  GATEWAY_PORT: port.default(8080),
  SCHEDULER_PORT: port.default(8081),
  ARTIFACT_STORE_PORT: port.default(8082),
  LOG_COLLECTOR_PORT: port.default(8083),
  SECRETS_PORT: port.default(8084),
  PROJECTOR_PORT: port.default(8085),
  WORKER_PORT: port.default(8086),
  // The loopback listener of /internal/* routes in a process that also serves the public API; 0: any.
  SPINDLE_INTERNAL_PORT: port.default(0),
  // Hydrosphere Mist's own port, where its clients find /v2/api (0: any free port).
  MIST_PORT: port.default(2004),
  // Ilum's own port, where its clients find /api/v1 (0: any free port).
  ILUM_PORT: port.default(9888),
  // The Genvid Cluster API's own port, where its clients find /v1 and /secrets (0: any free port).
  GENVID_PORT: port.default(8089),
  // Apollo's coordinator port, where its clients find /api/v1 (0: any free port).
  APOLLO_PORT: port.default(4750),
  // Mist's async interface: where start requests arrive and where job events go (unset: off).
  MIST_ASYNC_SUBSCRIBE_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/)
    .optional(),
  MIST_ASYNC_PUBLISH_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/)
    .optional(),
  // Mist's async interface over MQTT: the broker, the topic (or filter) start requests arrive on,
  // the topic every job event goes to (unset: off), and the client id whose persistent session
  // keeps requests while Spindle is away (default: derived from the database and the topic).
  MIST_MQTT_URL: z
    .string()
    .url()
    .refine(
      (u) => /^(mqtts?|tcp|ssl|wss?):$/.test(new URL(u).protocol),
      'must be mqtt://, mqtts://, ws:// or wss://',
    )
    .optional(),
  MIST_MQTT_SUBSCRIBE_TOPIC: z
    .string()
    .min(1)
    .max(1024)
    .refine(isMqttTopicFilter, 'must be an MQTT topic filter (+ and # only as whole levels, # last)')
    .optional(),
  MIST_MQTT_PUBLISH_TOPIC: z
    .string()
    .regex(/^[^+#\u0000]{1,1024}$/, 'must be an MQTT topic name (no + or #)')
    .optional(),
  MIST_MQTT_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/)
    .optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  OUTBOX_POLL_MS: positiveInt.default(5_000),
  CONSUMER_MAX_ATTEMPTS: positiveInt.default(5),
  COMMAND_TIMEOUT_MS: positiveInt.default(10_000),
  READ_YOUR_WRITES_TIMEOUT_MS: positiveInt.default(5_000),
  READ_CONSISTENCY_TIMEOUT_MS: positiveInt.default(2_000),
  // Genvid's events results log resets when no request came for this long (Genvid: 5 s).
  GENVID_EVENTS_RESET_MS: positiveInt.default(5_000),
  DB_POOL_SIZE: positiveInt.default(10),
  // Statements prepared once per connection and run by name (libs/backbone/.../prepared-statements.ts);
  // off for a transaction-mode pooler, which hands each transaction another server connection.
  DB_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  ARTIFACT_MAX_BYTES: positiveInt.default(256 * 1024 * 1024),
  ARTIFACT_STORE_URL: z.string().url().optional(),
  LOG_COLLECTOR_URL: z.string().url().optional(),
  // Worker agent: the host's stable name, and how many worker processes it runs at once.
  WORKER_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/)
    .optional(),
  WORKER_SLOTS: z.coerce.number().int().min(0).max(10_000).default(16),
  // Job confinement (docs/security.md): how many job users the host's pool may hold (0: jobs run
  // as Spindle's user; users need the agent to run as root), whether jobs reach the network, and
  // their rlimits.
  SPINDLE_JOB_USERS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_JOB_USERS),
  // Where a worker agent keeps job and worker directories and its artifact cache (unset:
  // <SPINDLE_DATA_DIR>/worker, or /var/lib/spindle/jobs-<hash> when job users could not reach that).
  SPINDLE_JOB_DIR: z.string().min(1).optional(),
  SPINDLE_JOB_NETWORK: z.enum(['on', 'off']).default('on'),
  SPINDLE_JOB_MAX_OPEN_FILES: z.coerce.number().int().min(16).max(1_048_576).default(4_096),
  SPINDLE_JOB_MAX_PROCESSES: z.coerce.number().int().min(1).max(1_048_576).default(1_024),
  SPINDLE_JOB_MAX_ADDRESS_SPACE_MB: positiveInt.optional(),
  SPINDLE_JOB_MAX_CPU_SECONDS: positiveInt.optional(),
  SPINDLE_JOB_MAX_MEMORY_MB: positiveInt.optional(),
  // How much less CPU than the worker agent a job process gets (its nice value; 0: as much).
  SPINDLE_JOB_NICE: z.coerce.number().int().min(0).max(19).default(10),
  SPINDLE_JOB_CGROUPS: z.enum(['auto', 'v1', 'off']).default('auto'),
  // A read-only view of the file system for job processes (auto: when the agent is root and mount
  // namespaces work).
  SPINDLE_JOB_FS: z.enum(['auto', 'readonly', 'off']).default('auto'),
  // What one job may put in its end report (beyond: into its log, referenced) and in its log.
  SPINDLE_JOB_MAX_RESULT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(512 * 1024)
    .default(256 * 1024),
  SPINDLE_JOB_MAX_LOG_BYTES: positiveInt.default(64 * 1024 * 1024),
  // Scheduler: how long a host may stay silent before its jobs are failed.
  HOST_SILENCE_LIMIT_MS: positiveInt.default(5_000),
  SPINDLE_INTERNAL_TOKEN: z.string().min(16).optional(),
  // Secrets: the master key that wraps every data key (base64 of 32 bytes; unset: a key file in
  // SPINDLE_DATA_DIR), and during a rotation the earlier ones, still accepted for reading.
  SPINDLE_MASTER_KEY: z.string().refine(isMasterKey, MASTER_KEY_RULE).optional(),
  SPINDLE_MASTER_KEY_PREVIOUS: z
    .string()
    .refine(
      (v) => v.split(',').every((k) => isMasterKey(k.trim())),
      `each (comma-separated) ${MASTER_KEY_RULE}`,
    )
    .optional(),
  SECRETS_URL: z.string().url().optional(),
  // Authentication (docs/security.md): an admin key accepted as is (automation, tests), the
  // secret API keys' verifiers are made with (unset: a file in SPINDLE_DATA_DIR), and each
  // listener's policy: `keys` (a key with the route's scope) or `open` (anyone who can connect).
  // (Empty: unset, so a wrapper can switch an inherited key off.)
  SPINDLE_ADMIN_KEY: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32).max(512).optional()),
  SPINDLE_API_KEY_SECRET: z.string().min(32).optional(),
  SPINDLE_AUTH: authPolicy.default('keys'),
  // Every dialect port's policy, unless <NAME>_AUTH (MIST_AUTH, ILUM_AUTH, ...) says otherwise.
  SPINDLE_DIALECT_AUTH: authPolicy.default('keys'),
  // Host names the HTTP listeners answer besides IP literals, localhost and SPINDLE_HOST
  // (defeats DNS rebinding); `*`: any.
  SPINDLE_ALLOWED_HOSTS: z.string().optional(),
  // Origins allowed to call the APIs from a browser (CORS, and writes carrying an Origin); unset: none.
  SPINDLE_CORS_ORIGINS: z.string().optional(),
  // Storage endpoints (origins, comma-separated: http://host:port) that job input and output URLs
  // may name; anything else is refused before it is fetched. Default: the local S3Proxy.
  SPINDLE_STORAGE_ALLOW: z.string().min(1).default('http://127.0.0.1:19000'),
  // Slow clients (docs/security.md): how long a request may take to arrive whole (headers and
  // body; an upload included), and its headers alone, on every HTTP listener.
  SPINDLE_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(600_000),
  SPINDLE_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  // Open SSE streams, followed logs and WebSockets: per listener, and per API key on a listener.
  SPINDLE_MAX_STREAMS_PER_LISTENER: positiveInt.default(1_000),
  SPINDLE_MAX_STREAMS_PER_KEY: positiveInt.default(100),
});

// Never echoes the value: a configuration error names the variable and the rule only.
export function isMasterKey(value: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32;
}

export type BusKind = 'kafka' | 'in-process';

function isMqttTopicFilter(filter: string): boolean {
  if (filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every(
    (level, i) => (level === '#' && i === levels.length - 1) || level === '+' || !/[+#]/.test(level),
  );
}

export interface MistMqttConfig {
  readonly url: string;
  readonly clientId: string;
  readonly subscribeTopic: string | undefined;
  readonly publishTopic: string | undefined;
}

export interface SpindleConfig {
  readonly databaseUrl: string | undefined;
  readonly bus: BusKind;
  // How commands reach their owner: in-process whenever the owner runs in this very process (then
  // no broker round trip sits in a request), else Kafka request/reply. Set by the boot.
  readonly commands: BusKind;
  readonly kafka: {
    readonly brokers: string[];
    readonly clientId: string;
    readonly partitions: number;
    // '' when KAFKA_NAMESPACE is unset: the topics and groups keep the contracts' names.
    readonly namespace: string;
    readonly security: KafkaSecurity;
    // How long the broker may hold a consumer's fetch that finds nothing (KAFKA_FETCH_WAIT_MS).
    readonly fetchWaitMs: number;
  };
  readonly host: string;
  readonly dataDir: string;
  readonly ports: {
    readonly gateway: number;
    readonly scheduler: number;
    readonly artifactStore: number;
    readonly logCollector: number;
    readonly secrets: number;
    readonly projector: number;
    readonly worker: number;
    readonly mist: number;
    readonly ilum: number;
    readonly genvid: number;
    readonly apollo: number;
    readonly embeddedPostgres: number;
    readonly internal: number;
  };
  readonly outboxPollMs: number;
  readonly consumerMaxAttempts: number;
  readonly commandTimeoutMs: number;
  readonly readYourWritesTimeoutMs: number;
  readonly genvidEventsResetMs: number;
  // How long a read waits for the read models to include every write acknowledged before it.
  readonly readConsistencyTimeoutMs: number;
  readonly dbPoolSize: number;
  readonly dbPreparedStatements: boolean;
  readonly artifacts: { readonly maxBytes: number };
  // Where the gateway reaches services that own data it streams (artifact blobs). A process that
  // runs the service itself replaces this with its own address once it listens.
  readonly urls: { artifactStore: string; logCollector: string; secrets: string };
  readonly worker: {
    readonly hostId: string | undefined;
    readonly slots: number;
    readonly jobDir: string | undefined;
    readonly maxResultBytes: number;
    readonly maxLogBytes: number;
    readonly confinement: {
      readonly jobUsers: number;
      readonly network: boolean;
      readonly limits: {
        readonly openFiles: number;
        readonly processes: number;
        readonly addressSpaceBytes: number | null;
        readonly cpuSeconds: number | null;
        // Resident memory of each process a worker starts and all it starts (a cgroup's limit).
        readonly memoryBytes: number | null;
        readonly nice: number;
      };
      // Every process in a cgroup of its own when the host allows it (auto: cgroup v2 where the host
      // has it, with v1 controllers beside on a hybrid host; v1: the v1 hierarchies only), or never.
      readonly cgroups: 'auto' | 'v1' | 'off';
      // A read-only view of the file system for every job process: when the host allows it
      // (auto), required (readonly), or never (off).
      readonly fileSystem: 'auto' | 'readonly' | 'off';
    };
  };
  readonly scheduler: { readonly hostSilenceLimitMs: number };
  readonly mist: {
    // Kafka topics of Mist's async interface (on Spindle's own broker)
    readonly subscribeTopic: string | undefined;
    readonly publishTopic: string | undefined;
    // the same interface over MQTT; undefined: off
    readonly mqtt: MistMqttConfig | undefined;
  };
  // Service-to-service routes (/internal/...) answer loopback callers, and others only with this token.
  readonly internalToken: string | undefined;
  readonly auth: {
    readonly adminKey: string | undefined;
    // Settled at boot (installationSecrets): the env value, or the file in dataDir.
    readonly apiKeySecret: string | undefined;
    readonly api: AuthPolicy;
    // By dialect name; a dialect not named here has `dialectDefault`.
    readonly dialects: Readonly<Record<string, AuthPolicy>>;
    readonly dialectDefault: AuthPolicy;
    readonly allowedHosts: readonly string[];
    readonly corsOrigins: readonly string[];
  };
  // Read by the secrets service only (base64 of 32 bytes each). undefined: the key file in dataDir.
  readonly secrets: {
    readonly masterKey: string | undefined;
    readonly previousMasterKeys: readonly string[];
  };
  readonly storage: { readonly allow: readonly string[] };
  readonly http: { readonly requestTimeoutMs: number; readonly headersTimeoutMs: number };
  readonly streams: { readonly perListener: number; readonly perKey: number };
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/spindle';
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:19092';

export class ConfigError extends Error {}

// `distributed` is how a single service runs (`npm run start:<app>`): Kafka and Postgres are
// required and fall back to the local development addresses. Standalone uses what it is given.
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  mode: 'standalone' | 'distributed' = 'distributed',
): SpindleConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const mqttTopics = e.MIST_MQTT_SUBSCRIBE_TOPIC ?? e.MIST_MQTT_PUBLISH_TOPIC;
  if (mqttTopics !== undefined && e.MIST_MQTT_URL === undefined) {
    throw new ConfigError('invalid configuration: MIST_MQTT_URL: required with MIST_MQTT_*_TOPIC');
  }
  const kafkaSecurity = kafkaSecurityOf(e);
  if (Array.isArray(kafkaSecurity))
    throw new ConfigError(`invalid configuration: ${kafkaSecurity.join('; ')}`);
  const brokers = e.KAFKA_BROKERS ?? (mode === 'distributed' ? DEFAULT_KAFKA_BROKERS : undefined);
  const databaseUrl = e.DATABASE_URL ?? (mode === 'distributed' ? DEFAULT_DATABASE_URL : undefined);
  return {
    databaseUrl,
    bus: brokers ? 'kafka' : 'in-process',
    commands: brokers ? 'kafka' : 'in-process',
    kafka: {
      brokers: (brokers ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      clientId: e.KAFKA_CLIENT_ID,
      partitions: e.KAFKA_TOPIC_PARTITIONS,
      namespace: e.KAFKA_NAMESPACE ?? '',
      security: kafkaSecurity,
      fetchWaitMs: e.KAFKA_FETCH_WAIT_MS,
    },
    host: e.SPINDLE_HOST,
    dataDir: e.SPINDLE_DATA_DIR,
    ports: {
      gateway: e.GATEWAY_PORT,
      scheduler: e.SCHEDULER_PORT,
      artifactStore: e.ARTIFACT_STORE_PORT,
      logCollector: e.LOG_COLLECTOR_PORT,
      secrets: e.SECRETS_PORT,
      projector: e.PROJECTOR_PORT,
      worker: e.WORKER_PORT,
      mist: e.MIST_PORT,
      ilum: e.ILUM_PORT,
      genvid: e.GENVID_PORT,
      apollo: e.APOLLO_PORT,
      embeddedPostgres: e.EMBEDDED_PG_PORT,
      internal: e.SPINDLE_INTERNAL_PORT,
    },
    outboxPollMs: e.OUTBOX_POLL_MS,
    consumerMaxAttempts: e.CONSUMER_MAX_ATTEMPTS,
    commandTimeoutMs: e.COMMAND_TIMEOUT_MS,
    readYourWritesTimeoutMs: e.READ_YOUR_WRITES_TIMEOUT_MS,
    genvidEventsResetMs: e.GENVID_EVENTS_RESET_MS,
    readConsistencyTimeoutMs: e.READ_CONSISTENCY_TIMEOUT_MS,
    dbPoolSize: e.DB_POOL_SIZE,
    dbPreparedStatements: e.DB_PREPARED_STATEMENTS === 'on',
    artifacts: { maxBytes: e.ARTIFACT_MAX_BYTES },
    urls: {
      artifactStore: e.ARTIFACT_STORE_URL ?? `http://127.0.0.1:${e.ARTIFACT_STORE_PORT}`,
      logCollector: e.LOG_COLLECTOR_URL ?? `http://127.0.0.1:${e.LOG_COLLECTOR_PORT}`,
      secrets: e.SECRETS_URL ?? `http://127.0.0.1:${e.SECRETS_PORT}`,
    },
    worker: {
      hostId: e.WORKER_HOST_ID,
      slots: e.WORKER_SLOTS,
      jobDir: e.SPINDLE_JOB_DIR,
      maxResultBytes: e.SPINDLE_JOB_MAX_RESULT_BYTES,
      maxLogBytes: e.SPINDLE_JOB_MAX_LOG_BYTES,
      confinement: {
        jobUsers: e.SPINDLE_JOB_USERS,
        network: e.SPINDLE_JOB_NETWORK === 'on',
        limits: {
          openFiles: e.SPINDLE_JOB_MAX_OPEN_FILES,
          processes: e.SPINDLE_JOB_MAX_PROCESSES,
          addressSpaceBytes:
            e.SPINDLE_JOB_MAX_ADDRESS_SPACE_MB === undefined
              ? null
              : e.SPINDLE_JOB_MAX_ADDRESS_SPACE_MB * 1024 * 1024,
          cpuSeconds: e.SPINDLE_JOB_MAX_CPU_SECONDS ?? null,
          memoryBytes:
            e.SPINDLE_JOB_MAX_MEMORY_MB === undefined ? null : e.SPINDLE_JOB_MAX_MEMORY_MB * 1024 * 1024,
          nice: e.SPINDLE_JOB_NICE,
        },
        cgroups: e.SPINDLE_JOB_CGROUPS,
        fileSystem: e.SPINDLE_JOB_FS,
      },
    },
    scheduler: { hostSilenceLimitMs: e.HOST_SILENCE_LIMIT_MS },
    mist: {
      subscribeTopic: e.MIST_ASYNC_SUBSCRIBE_TOPIC,
      publishTopic: e.MIST_ASYNC_PUBLISH_TOPIC,
      mqtt:
        e.MIST_MQTT_URL === undefined || mqttTopics === undefined
          ? undefined
          : {
              url: e.MIST_MQTT_URL,
              // Stable across restarts (the broker keeps the session under it) and one per
              // installation and topic; 23 characters, the most MQTT 3.1.1 promises to accept.
              clientId:
                e.MIST_MQTT_CLIENT_ID ??
                `spindle-mist-${createHash('sha256')
                  .update(`${installationOf({ databaseUrl })}\n${e.MIST_MQTT_SUBSCRIBE_TOPIC ?? ''}`)
                  .digest('hex')
                  .slice(0, 10)}`,
              subscribeTopic: e.MIST_MQTT_SUBSCRIBE_TOPIC,
              publishTopic: e.MIST_MQTT_PUBLISH_TOPIC,
            },
    },
    internalToken: e.SPINDLE_INTERNAL_TOKEN,
    auth: {
      adminKey: e.SPINDLE_ADMIN_KEY,
      apiKeySecret: e.SPINDLE_API_KEY_SECRET,
      api: e.SPINDLE_AUTH,
      dialects: dialectPolicies(env),
      dialectDefault: e.SPINDLE_DIALECT_AUTH,
      allowedHosts: listOf(e.SPINDLE_ALLOWED_HOSTS).map((h) => h.toLowerCase()),
      corsOrigins: listOf(e.SPINDLE_CORS_ORIGINS),
    },
    secrets: {
      masterKey: e.SPINDLE_MASTER_KEY,
      previousMasterKeys: (e.SPINDLE_MASTER_KEY_PREVIOUS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    },
    storage: {
      allow: e.SPINDLE_STORAGE_ALLOW.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    http: {
      requestTimeoutMs: e.SPINDLE_HTTP_REQUEST_TIMEOUT_MS,
      // Node requires the headers' timeout not to exceed the request's.
      headersTimeoutMs: Math.min(e.SPINDLE_HTTP_HEADERS_TIMEOUT_MS, e.SPINDLE_HTTP_REQUEST_TIMEOUT_MS),
    },
    streams: { perListener: e.SPINDLE_MAX_STREAMS_PER_LISTENER, perKey: e.SPINDLE_MAX_STREAMS_PER_KEY },
  };
}

function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

// <NAME>_AUTH for any dialect, so a new dialect needs no entry here (SPINDLE_AUTH and
// SPINDLE_DIALECT_AUTH are not dialects).
function dialectPolicies(env: NodeJS.ProcessEnv): Record<string, AuthPolicy> {
  const policies: Record<string, AuthPolicy> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = /^([A-Z][A-Z0-9]*)_AUTH$/.exec(name);
    if (!match || match[1] === 'SPINDLE' || value === undefined) continue;
    const parsed = authPolicy.safeParse(value);
    if (!parsed.success) throw new ConfigError(`invalid configuration: ${name}: must be open or keys`);
    policies[match[1]!.toLowerCase()] = parsed.data;
  }
  return policies;
}

// Credentials never reach a log line.
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

// Which installation a process belongs to: the database it keeps its state in. Data that crosses
// the bus outside the event stores (worker heartbeats) carries it, so that two installations
// sharing a Kafka cluster (test suites, say) never adopt each other's hosts.
export function installationOf(config: Pick<SpindleConfig, 'databaseUrl'>): string {
  try {
    const u = new URL(config.databaseUrl ?? '');
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'unknown';
  }
}
