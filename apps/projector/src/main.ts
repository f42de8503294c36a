import 'reflect-metadata';
import { loadConfig } from '@spindle/platform';
import { bootService } from '@spindle/runtime';

// One projector process of the real topology, against Kafka and Postgres (see README).
bootService('projector', loadConfig(process.env, 'distributed')).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
