import 'reflect-metadata';
import { StartupError, loadConfig } from '@spindle/platform';
import { bootService } from '@spindle/runtime';

// One secrets process of the real topology, against Kafka and Postgres (see README).
bootService('secrets', loadConfig(process.env, 'distributed')).catch((e: unknown) => {
  // A cause the user can fix (a missing master key) is one line; anything else keeps its stack.
  console.error(e instanceof StartupError ? `spindle: ${e.message}` : e);
  process.exit(1);
});
