import 'reflect-metadata';
import { loadConfig } from '@spindle/platform';
import { bootService } from '@spindle/runtime';

// One gateway process of the real topology, against Kafka and Postgres (see README).
bootService('gateway', loadConfig(process.env, 'distributed')).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
