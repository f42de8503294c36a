import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { API_SCOPES, DEFAULT_CONTEXT_NAME, contextStreamId } from '@spindle/contracts';
import { loadConfig } from '@spindle/platform';
import { ApiKeys } from '@spindle/gateway';
import type { SpindleConfig } from '@spindle/platform';
import { ApiKeysQuery, ContextsQuery, ReadBarrier } from '@spindle/read-models';
import { bootServices } from './boot';
import type { RunningApp } from './boot';
import { startEmbeddedPostgres } from './embedded-postgres/embedded-postgres';
import type { EmbeddedDatabase } from './embedded-postgres/embedded-postgres';
import { SERVICE_NAMES } from './service-catalog';

export interface Standalone extends RunningApp {
  readonly embeddedDatabase: EmbeddedDatabase | undefined;
}

// Every service in one process. Without KAFKA_BROKERS the in-process bus carries events and
// commands; without DATABASE_URL an embedded PostgreSQL keeps the data in SPINDLE_DATA_DIR.
export async function startStandalone(
  env: NodeJS.ProcessEnv = process.env,
  logger = true,
): Promise<Standalone> {
  const base = loadConfig({ DB_POOL_SIZE: '4', ...env }, 'standalone');
  const embeddedDatabase = base.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(base.dataDir, base.ports.embeddedPostgres);
  const config = { ...base, databaseUrl: base.databaseUrl ?? embeddedDatabase!.url };
  try {
    const running = await bootServices({
      config,
      services: SERVICE_NAMES,
      name: 'standalone',
      port: config.ports.gateway,
      logger,
    });
    await settleGateway(running.app, config);
    return {
      ...running,
      embeddedDatabase,
      stop: async () => {
        await running.stop();
        await embeddedDatabase?.stop();
      },
    };
  } catch (e) {
    await embeddedDatabase?.stop().catch(() => undefined);
    throw e;
  }
}

// Ready means readable: wait until the read models show what the services created at boot; then
// the first admin key, if none exists. Done by the process that runs the gateway. Where the
// projector is a process of its own (the `node` and `all` topologies, or another machine), its
// tables may not exist yet: that is "not yet readable", waited out, not a failure to start.
export async function settleGateway(app: RunningApp['app'], config: SpindleConfig): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    try {
      const visible = await app
        .get(ContextsQuery)
        .waitForPosition(contextStreamId(DEFAULT_CONTEXT_NAME), 1, Math.max(0, deadline - Date.now()));
      if (!visible)
        new Logger('spindle').warn('the default context is not visible yet; the projector is lagging');
      await issueFirstAdminKey(app, config);
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== UNDEFINED_TABLE || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const SETTLE_TIMEOUT_MS = 30_000;
const UNDEFINED_TABLE = '42P01'; // PostgreSQL: the relation does not exist (not migrated yet)

// First start without SPINDLE_ADMIN_KEY: nobody holds a key yet, so one admin key is created and
// printed this once (Spindle keeps only its verifier); later starts find a key and print nothing.
async function issueFirstAdminKey(app: RunningApp['app'], config: SpindleConfig): Promise<void> {
  if (config.auth.adminKey !== undefined) return;
  await app.get(ReadBarrier).await(['apiKeys']);
  if (await app.get(ApiKeysQuery).any()) return;
  const request = { name: 'admin (first start)', scopes: [...API_SCOPES] };
  const created = await app.get(ApiKeys).create(request, { correlationId: randomUUID() });
  process.stdout.write(
    `\n  Spindle created an admin API key. It is shown this once; keep it somewhere safe:\n\n` +
      `    ${created.key}\n\n` +
      `  Send it as "Authorization: Bearer <key>" (Swagger UI: Authorize). Make narrower keys with\n` +
      `  npm run spindle -- keys create --scopes read,submit --name ci\n\n`,
  );
}

export function printWelcome(url: string): void {
  const logger = new Logger('spindle');
  logger.log(`Spindle is up
    API          ${url}/api/v1
    Swagger UI   ${url}/docs
    OpenAPI      ${url}/api/openapi.json
    Health       ${url}/health`);
}
