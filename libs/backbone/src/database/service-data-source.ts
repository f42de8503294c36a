import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ADVISORY_LOCK_CLASS } from './advisory-locks';
import type { DataSourceOptions, Logger as TypeOrmLogger, MigrationInterface, MixedList } from 'typeorm';
import { databaseStatements } from '../metrics/backbone-metrics';
import { PreparingClient } from './prepared-statements';
import { applicationNameOf } from './writer-horizon';

// Every service owns one Postgres schema; nobody writes another's.
export interface ServiceDatabaseOptions {
  readonly name: string; // TypeORM connection name, also the Nest injection token
  readonly schema: string;
  readonly url: string;
  readonly entities: MixedList<Function>;
  readonly migrations: MixedList<Function>;
  readonly poolSize?: number;
  // Statements prepared once per connection (prepared-statements.ts); on unless false.
  readonly preparedStatements?: boolean;
}

export function serviceDataSourceOptions(options: ServiceDatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    name: options.name,
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logger: new StatementCounter(options.name),
    extra: {
      max: options.poolSize ?? 10,
      // Names the schema it writes: readers of an outbox or feed wait only for its own writers.
      application_name: applicationNameOf(options.name, options.schema),
      // Short statements only: a plan whose estimate passes jit_above_cost (a backlog of queued
      // jobs makes the dispatcher's snapshot look costly) was JIT-compiled for ~0.9 s to run 3 ms.
      options: '-c jit=off',
      ...(options.preparedStatements === false ? {} : { Client: PreparingClient }),
    },
  };
}

// Counts every statement for /metrics (`spindle_db_statements_total`: the benchmark's statements per
// job) and logs nothing, as TypeORM without `logging`. TypeORM calls logQuery for each statement a
// query runner sends, BEGIN and COMMIT included. (Leader locks and LISTEN hold raw sessions of
// their own, outside: a few statements a second, whatever the load.)
class StatementCounter implements TypeOrmLogger {
  private readonly counter;
  statements = 0;

  constructor(connection: string) {
    this.counter = databaseStatements.labels(connection);
  }

  logQuery(): void {
    this.statements++;
    this.counter.inc();
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

// Creates the schema and runs the schema's migrations under an advisory lock, so two processes
// of the same service starting together do not race.
export async function prepareServiceSchema(dataSource: DataSource, schema: string): Promise<void> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1, hashtext($2))', [ADVISORY_LOCK_CLASS.migrations, schema]);
    await lock.query(`create schema if not exists "${schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) {
      new Logger('migrations').log(`${schema}: applied ${applied.map((m) => m.name).join(', ')}`);
    }
  } finally {
    await lock
      .query('select pg_advisory_unlock($1, hashtext($2))', [ADVISORY_LOCK_CLASS.migrations, schema])
      .catch(() => undefined);
    await lock.release();
  }
}

// How many statements a service data source has sent so far (0 for another data source).
export function statementsSentBy(dataSource: DataSource): () => number {
  const logger = dataSource.logger;
  return () => (logger instanceof StatementCounter ? logger.statements : 0);
}

export async function openServiceDataSource(options: ServiceDatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource(serviceDataSourceOptions(options));
  await dataSource.initialize();
  await prepareServiceSchema(dataSource, options.schema);
  return dataSource;
}

export type MigrationClass = new () => MigrationInterface;
