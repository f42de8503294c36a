import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InProcessMessageBus, OutboxRelay, PostgresEventStore, backboneMigrations } from '@spindle/backbone';
import { SchedulerDispatchTables1763900000100 } from '../dispatch/dispatch-tables.migration';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

// For the scheduler's integration tests: its schema, migrated, on a database of its own (the
// schema name is fixed), and the commands service over it. (A feature library may not use the
// testing library; this is the little of it needed here.)
export async function schedulerDatabase(): Promise<{
  dataSource: DataSource;
  store: PostgresEventStore;
  commands: SchedulerCommandsService;
  drop(): Promise<void>;
}> {
  const server = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/spindle';
  const name = `spindle_t_sched_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const on = (database: string): string => {
    const url = new URL(server);
    url.pathname = `/${database}`;
    return url.toString();
  };
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: on('postgres') });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  await admin(`create database "${name}"`);
  const dataSource = new DataSource({
    type: 'postgres',
    url: on(name),
    schema: SCHEDULER_SCHEMA,
    migrations: [...backboneMigrations(SCHEDULER_SCHEMA), SchedulerDispatchTables1763900000100],
    migrationsTableName: 'migrations',
  });
  await dataSource.initialize();
  await dataSource.query(`create schema "${SCHEDULER_SCHEMA}"`);
  await dataSource.runMigrations({ transaction: 'each' });
  const store = new PostgresEventStore(SCHEDULER_SCHEMA);
  const relay = new OutboxRelay(dataSource, new InProcessMessageBus(), {
    schema: SCHEDULER_SCHEMA,
    pollMs: 20,
  });
  return {
    dataSource,
    store,
    commands: new SchedulerCommandsService(dataSource, store, relay),
    drop: async () => {
      await dataSource.destroy();
      await admin(`drop database if exists "${name}" with (force)`);
    },
  };
}
