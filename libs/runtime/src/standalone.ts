import { Logger } from '@nestjs/common';
import { DEFAULT_CONTEXT_NAME, contextStreamId } from '@spindle/contracts';
import { loadConfig } from '@spindle/platform';
import { ContextsQuery } from '@spindle/read-models';
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
    // Ready means readable: wait until the read models show what the services created at boot.
    const visible = await running.app
      .get(ContextsQuery)
      .waitForPosition(contextStreamId(DEFAULT_CONTEXT_NAME), 1, 30_000);
    if (!visible)
      new Logger('spindle').warn('the default context is not visible yet; the projector is lagging');
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

export function printWelcome(url: string): void {
  const logger = new Logger('spindle');
  logger.log(`Spindle is up
    API          ${url}/api/v1
    Swagger UI   ${url}/docs
    OpenAPI      ${url}/api/openapi.json
    Health       ${url}/health`);
}
