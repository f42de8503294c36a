import 'reflect-metadata';
import { loadConfig } from '@spindle/platform';
import { bootService } from '@spindle/runtime';

// One artifact-store process of the real topology, against Kafka and Postgres (see README).
bootService('artifact-store', loadConfig(process.env, 'distributed')).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
