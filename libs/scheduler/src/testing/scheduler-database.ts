import { DataSource } from 'typeorm';
import { InProcessMessageBus, OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import { createTestDatabase } from '@spindle/testing';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_MIGRATIONS } from '../scheduler.migrations';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { hostDelivery } from '../dispatch/host-delivery';

// For the scheduler's integration tests: its schema, migrated, on a database of its own (the
// schema name is fixed), and the commands service over it.
export async function schedulerDatabase(): Promise<{
  dataSource: DataSource;
  store: PostgresEventStore;
  commands: SchedulerCommandsService;
  // A worker host that has just been seen (and heard until an hour ahead: no supervisor pass
  // counts it lost during a test), with `slots` slots.
  liveHost(id: string, slots: number): Promise<void>;
  drop(): Promise<void>;
}> {
  const db = await createTestDatabase('spindle_t_sched');
  const dataSource = new DataSource({
    type: 'postgres',
    url: db.url,
    schema: SCHEDULER_SCHEMA,
    migrations: SCHEDULER_MIGRATIONS,
    migrationsTableName: 'migrations',
  });
  await dataSource.initialize();
  await dataSource.query(`create schema "${SCHEDULER_SCHEMA}"`);
  await dataSource.runMigrations({ transaction: 'each' });
  const store = new PostgresEventStore(SCHEDULER_SCHEMA, hostDelivery);
  const relay = new OutboxRelay(dataSource, new InProcessMessageBus(), {
    schema: SCHEDULER_SCHEMA,
    pollMs: 20,
  });
  return {
    dataSource,
    store,
    commands: new SchedulerCommandsService(dataSource, store, relay),
    liveHost: async (id, slots) => {
      await dataSource.query(
        `insert into "${SCHEDULER_SCHEMA}".hosts
           (id, incarnation, hostname, agent_pid, slots, stopping, started_at, last_seen, heard_until)
         values ($1, 'i1', 'test', 1, $2, false, now(), now(), now() + interval '1 hour')`,
        [id, slots],
      );
    },
    drop: async () => {
      await dataSource.destroy();
      await db.drop();
    },
  };
}
