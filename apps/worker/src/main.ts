import 'reflect-metadata';
import { loadConfig } from '@spindle/platform';
import { bootService } from '@spindle/runtime';

// One worker process of the real topology, against Kafka and Postgres (see README).
bootService('worker', loadConfig(process.env, 'distributed')).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
